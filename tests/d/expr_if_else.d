/*
 * The vtrace extension if/else (not in DTrace, see DESIGN.md): statements run on a
 * non-zero condition, else-if chains, and nested blocks.
 *
 * @args: -q
 */

BEGIN
{
	x = 5;
	if (x > 3) {
		printf("big\n");
	} else {
		printf("small\n");
	}
	if (x == 1) {
		printf("one\n");
	} else if (x == 5) {
		printf("five\n");
	} else {
		printf("other\n");
	}
	if (0) {
		printf("never\n");
	}
	if (x) {
		if (x < 10) {
			printf("nested\n");
		}
	}
	exit(0);
}
