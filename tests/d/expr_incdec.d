/*
 * Pre- and post-increment and decrement on globals, associative-array elements and
 * thread-local variables: prefix yields the new value, postfix the old one.
 *
 * @args: -q
 */

BEGIN
{
	x = 5;
	y = x++;
	printf("%d %d\n", y, x);
	y = ++x;
	printf("%d %d\n", y, x);
	y = x--;
	printf("%d %d\n", y, x);
	y = --x;
	printf("%d %d\n", y, x);
	a[1] = 10;
	a[1]++;
	++a[1];
	a[2]--;
	printf("%d %d\n", a[1], a[2]);
	self->n = 1;
	self->n++;
	printf("%d\n", self->n++ + 10);
	printf("%d\n", self->n);
	exit(0);
}
