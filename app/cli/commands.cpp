#include "app/cli/command.h"

namespace electra::cli {

// One factory per file in app/cli/.
Command tokenize_command();
Command vocab_command();
Command prepare_command();
Command verify_command();
Command inspect_command();
Command score_command();
Command import_hf_command();
Command export_command();
Command pretrain_command();
Command plot_command();
Command finetune_command();
Command evaluate_command();
Command sweep_command();

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      tokenize_command(),  vocab_command(),  prepare_command(),  verify_command(),
      pretrain_command(),  plot_command(),   inspect_command(),  score_command(),
      import_hf_command(), export_command(), finetune_command(), evaluate_command(),
      sweep_command()};
  return commands;
}

}  // namespace electra::cli
