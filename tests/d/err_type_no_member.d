/*
 * A member a struct does not have is an error naming the struct.
 *
 * @exit: 1
 */

struct s { int a; } *p;

BEGIN
{
	p = alloca(sizeof(struct s));
	p->b = 1;
}
