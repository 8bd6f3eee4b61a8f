// dtrace -C: a script run through the C preprocessor before it is compiled, as dtrace(1) runs
// it through cpp. The output keeps cpp's line markers (# LINE "file"), which the lexer follows,
// so errors point at the script's own lines.
#pragma once
#include <string>
#include <vector>

namespace vtrace::cli {

// Runs `cpp` on `text` with `args` (-D, -U, -I; -traditional-cpp for K&R C). False with `error`
// (cpp's own messages went to stderr) when cpp cannot run or fails.
bool preprocess(const std::string& text, const std::vector<std::string>& args, bool traditional,
                std::string& out, std::string& error);

}  // namespace vtrace::cli
