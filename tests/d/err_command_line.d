/*
 * Errors in a -n program are reported against "<command line>", with the caret under the
 * offending token of the -n text.
 *
 * @args: -n 'BEGIN { trace(1 +); }'
 * @exit: 1
 */
