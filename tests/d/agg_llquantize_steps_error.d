/*
 * llquantize() steps must split every decade into whole buckets (DTrace's rules): with steps
 * greater than the factor, steps must evenly divide factor^2 (low magnitude 0). 210 does not
 * divide 100: a compile error, not a hang (this was a fuzzer-found hang).
 *
 * @args: -q -s {script}
 * @exit: 1
 */

BEGIN
{
	@ll = llquantize(5, 10, 0, 6, 210);
	exit(0);
}
