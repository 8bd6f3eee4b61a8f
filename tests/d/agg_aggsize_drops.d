/*
 * aggsize bounds the bytes of aggregation keys and values (all aggregations together): once
 * full, a new key is dropped and counted, and vtrace reports "N aggregation drops" on stderr
 * as dtrace reports "N aggregation drops on CPU X". Keys already held keep aggregating.
 * 60 one-key updates cannot fit in 1k whatever a key costs (a key is 8 bytes plus a value).
 *
 * @args: -q -x aggsize=1k
 */

BEGIN
{
	@a = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@b[i++] = count();
	@a = count();
	@a = count();
	@a = count();
	printa("@a=%@d\n", @a);
	trunc(@b);
	exit(0);
}
