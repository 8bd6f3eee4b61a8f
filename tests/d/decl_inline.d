/*
 * D's inline definitions: a name for an expression, converted to its type as a cast would
 * (a char wraps, an inline string stays a string), evaluated where it is used (probename is
 * the using clause's), inlines of inlines, and inlines with keys whose parameters take the
 * use's keys.
 *
 * @args: -q -s {script}
 */

inline int i0 = 100 + 23;
inline string i1 = probename;
inline int i2 = pid != 0;
inline int sum[int x, int y] = x + y;
inline char c = 'c' + 2;
inline short s = 10 * c;
inline uint8_t u8 = 300;
inline int twice[int v] = sum[v, v];

BEGIN
{
	printf("%d %s %d %d %c %d %d %d\n", i0, i1, i2, sum[10, 20], c, s, u8, twice[i0]);
}

END
{
	printf("%s\n", i1);
}

BEGIN
{
	exit(0);
}
