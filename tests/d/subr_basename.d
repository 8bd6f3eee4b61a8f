/*
 * basename() as dtrace and POSIX: trailing slashes ignored; "/" stays "/".
 *
 */

#pragma D option quiet

BEGIN
{
	printf("[%s][%s][%s][%s][%s]\n", basename("/usr/lib/libc.so"), basename("/"), basename("a"), basename("a/"), basename("/a/b/"));
	exit(0);
}
