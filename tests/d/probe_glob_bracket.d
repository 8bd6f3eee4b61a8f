/*
 * Bracket expressions: a set [AB], a range [A-C], and a negated set [!R] (as gmatch(3gen)).
 *
 * @args: -q
 */

[cd]trace:::[AB]EGIN
{
	printf("set %s\n", probename);
}

dtrace:::[A-C]EGIN
{
	printf("range %s\n", probename);
	exit(0);
}

dtrace:::E[!R]*
{
	printf("negated %s\n", probename);
}
