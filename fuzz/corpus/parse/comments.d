/* block
 * comment */
// line comment
BEGIN /* inline */ { trace(1); /* after */ } // end
