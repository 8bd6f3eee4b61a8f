/*
 * A bpftrace habit gets a "did you mean": comm is D's execname.
 *
 * @exit: 1
 */

BEGIN
{
	@[comm] = count();
}
