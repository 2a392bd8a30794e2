// Placeholder until `congvan pki` lands.
#include "commands.h"

namespace congvan::client {
void RegisterPkiCommands(CLI::App&, int&) {}
}  // namespace congvan::client
