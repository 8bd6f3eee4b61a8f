/*
 * String variables: assignment copies the value, comparison is by content, and a string
 * variable may be reassigned a different string.
 *
 * @args: -q
 */

BEGIN
{
	s = "abc";
	t = s;
	s = "xyz";
	printf("%s %s\n", s, t);
	printf("%d %d\n", t == "abc", s == t);
	self->name = t;
	this->name = self->name;
	printf("%s\n", this->name);
	exit(0);
}
