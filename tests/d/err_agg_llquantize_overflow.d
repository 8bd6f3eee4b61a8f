/*
 * llquantize() whose high magnitude would overflow 64 bits (10^31) does not compile (DTrace
 * D_LLQUANT_HMAGVAL).
 *
 * @exit: 1
 */

BEGIN
{
	@ = llquantize(1, 10, 0, 30, 20);
}
