/*
 * trunc(@a) removes every entry: nothing of @a is printed at exit.
 *
 */

#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@a["y"] = count();
	trunc(@a);
	exit(0);
}

END
{
	printf("end\n");
}
