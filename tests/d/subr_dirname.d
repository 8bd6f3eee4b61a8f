/*
 * dirname() as dtrace and POSIX: "/" for "/" and "/a", "." for a bare name.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s][%s][%s][%s][%s]\n", dirname("/usr/lib/libc.so"), dirname("/"), dirname("a"), dirname("a/"), dirname("/a/b/"), dirname("/a"));
	exit(0);
}
