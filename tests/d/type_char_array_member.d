/*
 * The README's example: bcopy() into a char array member (its address), which then reads as a
 * string; a record value (gen_raw) decays to a pointer for the memory subroutines.
 */

#pragma D option quiet

struct point { int x, y; char name[8]; };
typedef struct point point_t;

BEGIN
{
	p = (point_t *)alloca(sizeof(point_t));
	p->x = 3;
	bcopy("origin", p->name, 7);
	printf("%s %d %d\n", p->name, p->x, strlen(p->name));
	exit(0);
}
