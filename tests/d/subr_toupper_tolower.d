/*
 * toupper() and tolower() change ASCII letters only.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s]\n", toupper("Hello World 1-z"), tolower("Hello World 1-Z"));
	exit(0);
}
