/*
 * Thread-local and global variables are independent even with the same name: self->x and x.
 *
 * @args: -q
 */

BEGIN
{
	x = 1;
	self->x = 2;
	this->x = 3;
	printf("%d %d %d\n", x, self->x, this->x);
	exit(0);
}
