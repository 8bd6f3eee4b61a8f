/*
 * quantize() of a negative value, of zero, and with a weight (second argument).
 *
 */

#pragma D option quiet

BEGIN
{
	@a = quantize(-5);
	@a = quantize(0);
	@a = quantize(3, 4);
	exit(0);
}
