/*
 * With -w, system() runs its command, and the command's output lands in order with the printf
 * output around it. The command is formatted like printf.
 *
 * @args: -qw
 */

#pragma D option quiet

BEGIN
{
	printf("before\n");
	system("echo %s %d", "hi", 42);
	printf("after\n");
	exit(0);
}
