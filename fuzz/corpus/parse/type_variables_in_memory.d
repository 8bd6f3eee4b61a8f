/*
 * Variables of array and struct type: globals keep their contents across clauses and firings,
 * this-> ones live for one probe firing (all its clauses), and a constant index outside the
 * array is refused when the script compiles (see err_type_array_bounds.d).
 */

#pragma D option quiet

int a[4];
struct pt { int x, y; } g;
this char buf[8];

BEGIN
{
	a[1] = 5;
	a[3] = a[1] * 2;
	g.x = 3;
	g.y = a[3];
	this->buf[0] = 'o';
	this->buf[1] = 'k';
	printf("%d %d %d %d %s %d %d\n", a[0], a[1], a[3], g.x + g.y, this->buf, sizeof(a), sizeof(g));
}

BEGIN
{
	printf("%s\n", this->buf);
}

tick-1ms
/i++ == 0/
{
	printf("%d %d [%s]\n", a[3], g.y, this->buf);
	exit(0);
}
