/*
 * A storage class alone declares an int, as in old C: `self x;` is a thread-local int, apart from
 * a global x of another type.
 *
 * @args: -q
 */

self x;

BEGIN
{
	x = "dummy";
	self->x = 3;
	printf("%s %d %d\n", x, self->x, sizeof(self->x));
	exit(0);
}
