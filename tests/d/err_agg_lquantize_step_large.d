/*
 * lquantize() needs at least one level between its bounds: a step wider than the range does
 * not compile (DTrace D_LQUANT_STEPLARGE).
 *
 * @exit: 1
 */

BEGIN
{
	@ = lquantize(1, 2, 3, 4);
}
