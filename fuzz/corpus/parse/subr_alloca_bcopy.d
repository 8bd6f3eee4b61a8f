/*
 * alloca() hands out zeroed scratch memory for one clause (the next clause gets the same
 * addresses back), bcopy() copies a string or scratch bytes into it, and char pointers read as
 * strings where a string is needed: stringof(), (string), printf's %s, string subroutines.
 */

#pragma D option quiet
#pragma D option scratchsize=64

BEGIN
{
	first = (char *)alloca(8);
	x = (char *)alloca(8);
	bcopy("a/bc", x, 5);
	y = (char *)alloca(8);
	bcopy(x, y, 2);
	printf("%s %s %s %d %s\n", stringof(x), (string)y, basename(x), strlen(x), strjoin(x, "!"));
	printf("%d %d %d\n", x[3], x[4], alloca(0) == alloca(0));
	s = "ABC";
	printf("%c%c %d\n", s[2], s[0], s[7]);
}

BEGIN
{
	again = (char *)alloca(8);
	printf("%d %d\n", again == first, again[0]);
	exit(0);
}
