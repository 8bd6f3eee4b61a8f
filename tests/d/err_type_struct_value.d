/*
 * A struct is not a value: it cannot be assigned to a variable, only its members or address.
 *
 * @exit: 1
 */

struct s { int a; } *p;

BEGIN
{
	p = alloca(sizeof(struct s));
	x = *p;
}
