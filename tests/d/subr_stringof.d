/*
 * stringof() of a string is the string itself; its result is usable as a string.
 *
 */

#pragma D option quiet

BEGIN
{
	this->s = stringof("abc");
	printf("[%s] %d\n", this->s, strlen(stringof(strjoin("x", "y"))));
	exit(0);
}
