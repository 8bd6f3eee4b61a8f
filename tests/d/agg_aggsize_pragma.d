/*
 * "#pragma D option aggsize=N" with dtrace's size suffixes sets the same bound as -x aggsize.
 * A trunc() gives the keys' room back: after it, new keys fit again.
 *
 * @args: -q
 */

#pragma D option aggsize=1k

BEGIN
{
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
	trunc(@b);
	@b[1000] = count();
	printa("%d %@d\n", @b);
	exit(0);
}
