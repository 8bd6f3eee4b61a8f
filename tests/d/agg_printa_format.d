/*
 * printa() with a format: %s takes the key, %@d the value, one line per entry, by value.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["b"] = sum(2);
	@a["a"] = sum(1);
	printa("%s: %@d\n", @a);
	exit(0);
}
