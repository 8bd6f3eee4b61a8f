/*
 * A program without any clause does not compile (DTrace D_EMPTY); the error is at the end
 * of the text.
 *
 * @exit: 1
 */
