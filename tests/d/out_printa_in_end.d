/*
 * An aggregation printed by printa() in END is not printed again at exit; others are.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@b["y"] = count();
	exit(0);
}

END
{
	printa("a %s %@d\n", @a);
}
