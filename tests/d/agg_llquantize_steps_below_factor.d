/*
 * llquantize() steps below the factor are allowed when they divide it. 5 steps per decade of
 * factor 10, laid out as Oracle's DTrace does: the decade [1, 10) has bins 1, 2, 4, 6, 8 (the
 * multiples of its width 2, the first starting at 1) and [10, 100) has 20, 40, 60, 80 after
 * [10, 20), labelled by the decade's steps: 3 lands in 2, 25 in 20, 0 in the bin of 0, and a
 * row either side of the non-zero ones (-1, 40).
 *
 * @args: -q
 */

BEGIN
{
	@ = llquantize(0, 10, 0, 1, 5);
	@ = llquantize(3, 10, 0, 1, 5);
	@ = llquantize(25, 10, 0, 1, 5);
	exit(0);
}
