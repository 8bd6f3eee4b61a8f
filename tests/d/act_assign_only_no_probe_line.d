/*
 * When not quiet, a clause that only assigns variables records no data, so it prints no probe
 * line (as dtrace: self-> bookkeeping does not flood the terminal); a clause with a
 * data-recording action does. _DTRACE_TESTING drops the CPU and ID columns, as dtrace's.
 *
 * @env: _DTRACE_TESTING=1
 */

BEGIN
{
	x = 1;
	self->y = 2;
}

BEGIN
{
	printf("%d", x + self->y);
	exit(0);
}
