/*
 * A keyed quantize(): the key, then the distribution, then a blank line.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["k"] = quantize(1);
	exit(0);
}
