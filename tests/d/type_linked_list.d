/*
 * A self-referential struct: a list of three nodes in alloca()'d memory, walked through ->next
 * (D has no loops: three steps). The parser's types must not own each other in a cycle (the
 * sanitizer build checks for leaks).
 */

#pragma D option quiet

struct node {
	int value;
	struct node *next;
};

BEGIN
{
	n = (struct node *)alloca(3 * sizeof(struct node));
	n[0].value = 1;
	n[0].next = &n[1];
	n[1].value = 20;
	n[1].next = n + 2;
	n[2].value = 300;
	n[2].next = NULL;
	printf("%d %d %d %d\n", n->value, n->next->value, n->next->next->value,
	    n->next->next->next == NULL);
	exit(0);
}
