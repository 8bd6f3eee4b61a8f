/*
 * C types in D: a struct, a union, an enum and a typedef, laid out as C lays them out on x86-64,
 * reached through a pointer alloca() returned; ->, ., [], & and pointer arithmetic.
 */

#pragma D option quiet

struct point {
	char tag;
	int x, y;
	char name[6];
	long big;
};

union word {
	unsigned char b[4];
	unsigned int u;
};

typedef struct point point_t;
enum color { RED, GREEN = 5, BLUE };

BEGIN
{
	p = (point_t *)alloca(sizeof(point_t));
	p->tag = 'A';
	p->x = -3;
	p->y = p->x * 2;
	p->name[0] = 'p';
	p->name[1] = 't';
	p->big = 1 << 40;
	w = (union word *)alloca(sizeof(union word));
	w->u = 0x11223344;
	printf("%d %d %d %s %d %c\n", sizeof(point_t), p->x, p->y, p->name, p->big == 1 << 40, p->tag);
	printf("%x %x %d\n", w->b[0], w->b[3], sizeof(union word));
	printf("%d %d %d\n", RED, GREEN, BLUE);
	q = &p->y;
	*q += 100;
	printf("%d %d %d\n", p->y, (int)((char *)q - (char *)p), &p->name[4] - &p->name[1]);
	a = (int *)alloca(4 * sizeof(int));
	a[0] = 10;
	*(a + 1) = 20;
	a[2] = a[0] + a[1];
	n = a;
	n++;
	printf("%d %d %d\n", a[2], *n, (*p).x);
	exit(0);
}
