/*
 * bpftrace's hist() is D's quantize().
 *
 * @exit: 1
 */

BEGIN
{
	@ = hist(1);
}
