/*
 * lquantize()'s step is a 16-bit quantity (DTrace D_LQUANT_STEPVAL).
 *
 * @exit: 1
 */

BEGIN
{
	@ = lquantize(1, 0, 1000000, 100000);
}
