// Shell-style glob matching for probe descriptions: * ? [abc] [a-z] [!x], and \ escapes.
#pragma once
#include <string_view>

namespace vtrace::engine {

bool glob_match(std::string_view pattern, std::string_view text);
bool has_glob_chars(std::string_view s);

}  // namespace vtrace::engine
