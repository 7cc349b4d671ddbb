// The bad-input table (bad_input_test.cpp runs it). In the strings, {E} is the electra binary,
// {tmp} the case's own scratch folder (also the working directory), and {vocab}, {text}, {data},
// {run}, {ckpt}, {sst}, {ft}, {hf}, {nan_run}, {nan_hf} the shared environment's vocabulary, text
// file, prepared corpus, run, checkpoint, sentence task, fine-tuned model, HF fixture and the
// checkpoint and HF folder with a NaN weight. Exit statuses: 1 bad input or I/O, 2 bad options.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace electra {

struct BadInputCase {
  std::string name;     // a GoogleTest name: letters, digits, underscores
  std::string setup;    // shell lines run first (empty: none)
  std::string command;  // the call
  int exit_code;
  std::string message;             // a fragment of what it must print
  std::vector<std::string> kept;   // must exist afterwards
  std::vector<std::string> absent = {};  // must not exist afterwards
};

// GoogleTest names a failing case by its name, not its bytes.
inline void PrintTo(const BadInputCase& c, std::ostream* os) {
  *os << c.name;
}

// A background process that holds the output lock of DIR (as a running electra would), written
// as electra writes it: "PID COMMAND".
inline std::string hold_lock(const std::string& lock_file) {
  return "mkdir -p \"$(dirname " + lock_file + ")\" && (sh -c 'echo $$ electra-holder > " +
         lock_file + "; exec flock -x " + lock_file +
         " sleep 8' </dev/null >/dev/null 2>&1 &) && sleep 0.4";
}

inline std::vector<BadInputCase> bad_input_cases() {
  const std::string pretrain = "{E} pretrain --data {data} --model tiny --batch-size 4 "
                               "--train-steps 2 --eval-examples 4 --threads 1 ";
  const std::string finetune = "{E} finetune --model {run} --train {sst} --dev {sst} --epochs 1 "
                               "--threads 1 ";
  const std::string sweep = "{E} sweep --checkpoints {run} --task sst:{sst}:{sst} --epochs 1 "
                            "--seeds 1 --threads 1 ";
  const std::string prepare = "{E} prepare --input {text} --seq-len 64 ";
  const std::string evaluate = "{E} evaluate --model {ft} --data {sst} ";
  const std::string copy_run = "cp -r {run} {tmp}/run && ";
  const std::string copy_hf = "cp -r {hf} {tmp}/hf && ";
  const std::string copy_data = "cp -r {data} {tmp}/data && ";
  const std::string tmp_ckpt = "{tmp}/run/checkpoints/step-00000002";
  const std::string hf_config = "{tmp}/hf/discriminator/config.json";
  // A JSON field of a file replaced (sed on the pretty-printed "FIELD": VALUE).
  const auto set_json = [](const std::string& file, const std::string& field,
                           const std::string& value) {
    return "sed -i 's/\"" + field + "\": [^,]*/\"" + field + "\": " + value + "/' " + file;
  };

  return {
      // ---- numbers: every numeric option is checked where it is declared ----
      {"PretrainLearningRateInf", "", pretrain + "--out {tmp}/r --learning-rate inf", 2,
       "--learning-rate inf: not a finite number in (0, 1]", {}, {"{tmp}/r"}},
      {"PretrainLearningRateNan", "", pretrain + "--out {tmp}/r --learning-rate nan", 2,
       "--learning-rate nan: not a finite number", {}, {"{tmp}/r"}},
      {"PretrainLearningRateZero", "", pretrain + "--out {tmp}/r --learning-rate 0", 2,
       "--learning-rate 0: not a finite number in (0, 1]", {}},
      {"PretrainMaskProbOne", "", pretrain + "--out {tmp}/r --mask-prob 1", 2,
       "--mask-prob 1: not a finite number in (0, 1)", {}},
      {"PretrainBatchSizeZero", "", pretrain + "--out {tmp}/r --batch-size 0", 2,
       "--batch-size 0: not a whole number in [1, 65536]", {}},
      {"PretrainBatchSizeFraction", "", pretrain + "--out {tmp}/r --batch-size 1.5", 2,
       "--batch-size 1.5: not a whole number", {}},
      {"PretrainTrainStepsNegative", "", pretrain + "--out {tmp}/r --train-steps -3", 2,
       "--train-steps -3: not a whole number in [1, ", {}},
      {"PretrainSeedNegative", "", pretrain + "--out {tmp}/r --seed -1", 2,
       "--seed -1: not a whole number in [0, 2^64-1]", {}},
      {"PretrainThreadsBeyondCores", "", pretrain + "--out {tmp}/r --threads 100000", 2,
       "--threads 100000: not a whole number in [0, ", {}},
      {"PretrainThreadsNegative", "", pretrain + "--out {tmp}/r --threads -1", 2,
       "--threads -1: not a whole number in [0, ", {}},
      {"PretrainClipNormZero", "", pretrain + "--out {tmp}/r --clip-norm 0", 2,
       "--clip-norm 0: not a finite number in (0, ", {}},
      {"PretrainTemperatureInf", "", pretrain + "--out {tmp}/r --temperature inf", 2,
       "--temperature inf: not a finite number", {}},
      {"PretrainWarmupScientific", "", pretrain + "--out {tmp}/r --warmup-steps 1e3", 2,
       "--warmup-steps 1e3: not a whole number", {}},
      {"PretrainBucketZero", "", pretrain + "--out {tmp}/r --bucket-mb 0", 2,
       "--bucket-mb 0: not a finite number in (0, 4096]", {}},
      {"PretrainKeepCheckpointsZero", "", pretrain + "--out {tmp}/r --keep-checkpoints 0", 2,
       "--keep-checkpoints 0: not a whole number in [1, ", {}},
      {"PretrainBaselineDecayOne", "", pretrain + "--out {tmp}/r --adversarial-baseline-decay 1",
       2, "--adversarial-baseline-decay 1: not a finite number in [0, 1)", {}},
      {"PretrainSeedOverflow", "", pretrain + "--out {tmp}/r --seed 18446744073709551616", 2,
       "--seed 18446744073709551616: not a whole number", {}},
      {"ConfigFileLearningRateInf", "printf 'learning-rate = inf\\n' > {tmp}/c.ini",
       pretrain + "--out {tmp}/r --config {tmp}/c.ini", 2,
       "learning-rate inf: not a finite number in (0, 1]", {"{tmp}/c.ini"}},
      {"VocabSizeNegative", "", "{E} vocab --input {text} --out {tmp}/v.txt --size -5", 2,
       "--size -5: not a whole number in [6, 10000000]", {}, {"{tmp}/v.txt"}},
      {"VocabMinFrequencyZero", "", "{E} vocab --input {text} --out {tmp}/v.txt --min-frequency 0",
       2, "--min-frequency 0: not a whole number in [1, ", {}},
      {"VocabLimitAlphabetZero", "", "{E} vocab --input {text} --out {tmp}/v.txt --limit-alphabet 0",
       2, "--limit-alphabet 0: not a whole number in [1, ", {}},
      {"PrepareSeqLenFour", "", prepare + "--out {tmp}/o --seq-len 4", 2,
       "--seq-len 4: not a whole number in [8, 65536]", {}, {"{tmp}/o"}},
      {"PrepareShardsZero", "", prepare + "--out {tmp}/o --shards 0", 2,
       "--shards 0: not a whole number in [1, ", {}},
      {"PrepareValFractionOne", "", prepare + "--out {tmp}/o --val-fraction 1", 2,
       "--val-fraction 1: not a finite number in [0, 1)", {}},
      {"PrepareMaxLineBytesZero", "", prepare + "--out {tmp}/o --max-line-bytes 0", 2,
       "--max-line-bytes 0: not a whole number in [1, ", {}},
      {"FinetuneLearningRateInf", "", finetune + "--out {tmp}/f --lr inf", 2,
       "--lr inf: not a finite number in (0, 1]", {}, {"{tmp}/f"}},
      {"FinetuneEpochsZero", "", finetune + "--out {tmp}/f --epochs 0", 2,
       "--epochs 0: not a whole number in [1, ", {}},
      {"FinetuneBatchSizeZero", "", finetune + "--out {tmp}/f --batch-size 0", 2,
       "--batch-size 0: not a whole number in [1, 65536]", {}},
      {"FinetuneWarmupTwo", "", finetune + "--out {tmp}/f --warmup 2", 2,
       "--warmup 2: not a finite number in [0, 1]", {}},
      {"FinetuneLayerDecayZero", "", finetune + "--out {tmp}/f --layer-decay 0", 2,
       "--layer-decay 0: not a finite number in (0, 1]", {}},
      {"FinetuneNBestZero", "", finetune + "--out {tmp}/f --n-best 0", 2,
       "--n-best 0: not a whole number in [1, 1000]", {}},
      {"FinetuneMaxSeqLenHuge", "", finetune + "--out {tmp}/f --max-seq-len 100000", 2,
       "--max-seq-len 100000: not a whole number in [0, 65536]", {}},
      {"EvaluateBatchSizeZero", "", evaluate + "--batch-size 0", 2,
       "--batch-size 0: not a whole number in [1, 65536]", {}},
      {"EvaluateThreadsBeyondCores", "", evaluate + "--threads 100000", 2,
       "--threads 100000: not a whole number", {}},
      {"SweepLearningRateInf", "", sweep + "--out {tmp}/s --lrs 1e-4,inf", 2,
       "--lrs: 'inf' is not a finite number in (0, 1]", {}, {"{tmp}/s"}},
      {"SweepSeedNegative", "",
       "{E} sweep --checkpoints {run} --task sst:{sst}:{sst} --out {tmp}/s --seeds 1,-2", 2,
       "--seeds: '-2' is not a whole number in [0, 2^64-1]", {}},
      {"SweepEpochsZero", "", sweep + "--out {tmp}/s --epochs 0", 2,
       "--epochs 0: not a whole number in [1, ", {}},

      // ---- options that name files: a folder, a missing file, an unknown option ----
      {"PretrainConfigIsAFolder", "mkdir {tmp}/c", pretrain + "--out {tmp}/r --config {tmp}/c", 2,
       "--config {tmp}/c: a folder, not an INI file", {"{tmp}/c"}, {"{tmp}/r"}},
      {"TokenizeConfigIsAFolder", "mkdir {tmp}/c", "echo hi | {E} tokenize --config {tmp}/c", 2,
       "--config {tmp}/c: a folder, not an INI file", {}},
      {"VerifyConfigIsAFolder", "mkdir {tmp}/c", "{E} verify --data {data} --config {tmp}/c", 2,
       "--config {tmp}/c: a folder, not an INI file", {}},
      {"ConfigFileMissing", "", "{E} verify --data {data} --config {tmp}/none.ini", 2,
       "--config {tmp}/none.ini: cannot open the file", {}},
      {"ConfigFileUnknownOption", "printf 'no-such-option = 1\\n' > {tmp}/c.ini",
       "{E} verify --data {data} --config {tmp}/c.ini", 2, "no-such-option", {}},
      {"UnknownOption", "", "{E} verify --data {data} --bogus", 2, "--bogus", {}},
      {"MissingRequiredOption", "", "{E} pretrain --data {data}", 2, "--out", {}},
      {"UnknownCommand", "", "{E} pretrian", 2, "unknown command 'pretrian'", {}},
      {"TokenizeVocabIsAFolder", "", "echo hi | {E} tokenize --vocab {tmp}", 1,
       "{tmp}: a folder, not a vocabulary file", {}},
      {"TokenizeVocabMissing", "", "echo hi | {E} tokenize --vocab {tmp}/none.txt", 1,
       "{tmp}/none.txt", {}},
      {"FinetuneTrainIsAFolder", "mkdir {tmp}/t",
       "{E} finetune --model {run} --train {tmp}/t --dev {sst} --out {tmp}/f --threads 1", 1,
       "{tmp}/t: a folder, not a file", {}, {"{tmp}/f/results.json"}},
      {"FinetuneTrainMissing", "",
       "{E} finetune --model {run} --train {tmp}/none.tsv --dev {sst} --out {tmp}/f --threads 1",
       1, "{tmp}/none.tsv", {}, {"{tmp}/f/results.json"}},
      {"FinetuneModelMissing", "", "{E} finetune --model {tmp}/none --train {sst} --dev {sst} "
       "--out {tmp}/f --threads 1", 1, "{tmp}/none", {}},
      {"FinetuneModelIsATextFile", "",
       "{E} finetune --model {text} --train {sst} --dev {sst} --out {tmp}/f --threads 1", 1,
       "{text}", {}},
      {"PretrainDataIsAFile", "", "{E} pretrain --data {text} --out {tmp}/r --model tiny", 1,
       "{text}", {}},
      {"PretrainDataMissing", "", "{E} pretrain --data {tmp}/none --out {tmp}/r --model tiny", 1,
       "{tmp}/none", {}},
      {"PretrainModelPresetUnknown", "", "{E} pretrain --data {data} --out {tmp}/r --model huge", 1,
       "huge", {}},
      {"PretrainSetUnknownField", "", pretrain + "--out {tmp}/r --set bogus_field=1", 1,
       "bogus_field", {}},
      {"PretrainSetNotANumber", "", pretrain + "--out {tmp}/r --set hidden_dropout_prob=abc", 1,
       "hidden_dropout_prob", {}},
      {"PretrainModelJsonHugeHidden",
       "sed 's/\"hidden_size\": 128/\"hidden_size\": 1099511627776/' "
       "{repo}/configs/model/tiny.json > {tmp}/m.json",
       pretrain + "--out {tmp}/r --model {tmp}/m.json", 1, "hidden_size 1099511627776", {},
       {"{tmp}/r/checkpoints"}},
      {"PretrainResumeWithoutCheckpoint", "", pretrain + "--out {tmp}/r --resume", 1,
       "no complete checkpoint", {}},
      {"PretrainVocabOfAnotherCorpus", "head -n 2000 {vocab} > {tmp}/v.txt",
       pretrain + "--out {tmp}/r --vocab {tmp}/v.txt", 1, "vocab", {}},
      {"EvaluateModelMissing", "", "{E} evaluate --model {tmp}/none --data {sst}", 1,
       "{tmp}/none", {}},
      {"EvaluateDataMissing", "", "{E} evaluate --model {ft} --data {tmp}/none.tsv", 1,
       "{tmp}/none.tsv", {}},
      {"InspectTextFile", "", "{E} inspect --model {text}", 1, "{text}", {}},
      {"ScoreModelMissing", "", "{E} score --model {tmp}/none --text hi", 1, "{tmp}/none", {}},
      {"PlotRunWithoutMetrics", "mkdir {tmp}/r", "{E} plot --run {tmp}/r", 1, "metrics.jsonl", {}},
      {"VerifyDataMissing", "", "{E} verify --data {tmp}/none", 1, "{tmp}/none", {}},

      // ---- vocabularies: BOM, duplicates, special tokens ----
      {"VocabWithBomIsRead", "(printf '\\xef\\xbb\\xbf'; cat {vocab}) > {tmp}/v.txt",
       "echo 'hello world' | {E} tokenize --vocab {tmp}/v.txt --tokens", 0, "hello world",
       {"{tmp}/v.txt"}},
      {"VocabWithDuplicateLine", "(head -n 1000 {vocab}; echo the; tail -n +1001 {vocab}) > {tmp}/v.txt",
       "echo hi | {E} tokenize --vocab {tmp}/v.txt", 1,
       "{tmp}/v.txt line 1001: 'the' repeats line ", {}},
      {"VocabWithoutPad", "grep -v '^\\[PAD\\]$' {vocab} > {tmp}/v.txt",
       "echo hi | {E} tokenize --vocab {tmp}/v.txt", 1, "has no [PAD]", {}},
      {"VocabEmpty", "touch {tmp}/v.txt", "echo hi | {E} tokenize --vocab {tmp}/v.txt", 1,
       "{tmp}/v.txt", {}},
      {"PrepareVocabWithDuplicate", "(cat {vocab}; echo the) > {tmp}/v.txt",
       prepare + "--out {tmp}/o --vocab {tmp}/v.txt", 1, "'the' repeats line ", {},
       {"{tmp}/o/manifest.json"}},
      {"VerifyVocabWithoutMask", "grep -v '^\\[MASK\\]$' {vocab} > {tmp}/v.txt",
       "{E} verify --data {data} --vocab {tmp}/v.txt", 1, "has no [MASK]", {}},
      {"VocabOutExistsNeedsOverwrite", "echo keep > {tmp}/v.txt",
       "{E} vocab --input {text} --out {tmp}/v.txt --size 200", 1, "--overwrite",
       {"{tmp}/v.txt"}},

      // ---- prepare's inputs ----
      {"PrepareSkipsShardsInAnInputFolder", "mkdir {tmp}/in && cp {text} {tmp}/in/a.txt && "
       "cp {data}/train-00000.h5 {tmp}/in/",
       "{E} prepare --input {tmp}/in --out {tmp}/o --seq-len 64", 0,
       "skipped 1 file that is not text", {"{tmp}/o/manifest.json"}},
      {"PrepareSkipsItsOwnOutputInsideTheInput", "mkdir {tmp}/in && cp {text} {tmp}/in/a.txt && "
       "cp -r {data} {tmp}/in/old",
       "{E} prepare --input {tmp}/in --out {tmp}/in/new --seq-len 64", 0,
       "skipped 1 folder of shards", {"{tmp}/in/new/manifest.json", "{tmp}/in/old/manifest.json"}},
      {"PrepareRefusesABinaryFileNamedAsInput", "",
       "{E} prepare --input {data}/train-00000.h5 --out {tmp}/o --seq-len 64", 1,
       "train-00000.h5: not a text file", {}, {"{tmp}/o/manifest.json"}},
      {"PrepareRefusesTheSameInputTwice", "",
       "{E} prepare --input {text} {text} --out {tmp}/o --seq-len 64", 1,
       "--input {text} is given twice", {}, {"{tmp}/o"}},
      {"PrepareInputMissing", "", "{E} prepare --input {tmp}/none.txt --out {tmp}/o", 1,
       "{tmp}/none.txt", {}, {"{tmp}/o/manifest.json"}},
      {"PrepareOutIsAFile", "echo mine > {tmp}/o", prepare + "--out {tmp}/o", 1,
       "--out {tmp}/o: a file, not a folder", {"{tmp}/o"}},
      {"PrepareOutInsideAFile", "echo mine > {tmp}/o", prepare + "--out {tmp}/o/sub", 1,
       "--out {tmp}/o/sub: {tmp}/o is a file", {"{tmp}/o"}},
      {"PrepareExistingOutputNeedsOverwrite", copy_data + "true", prepare + "--out {tmp}/data",
       1, "--overwrite", {"{tmp}/data/manifest.json"}},
      {"PrepareOverwriteKeepsAUsersFile", copy_data + "echo mine > {tmp}/data/mydata.h5",
       prepare + "--out {tmp}/data --overwrite", 1,
       "{tmp}/data/mydata.h5: not written by electra prepare", {"{tmp}/data/mydata.h5",
       "{tmp}/data/manifest.json", "{tmp}/data/train-00000.h5"}},
      {"PrepareOverwriteKeepsAUsersFolder", copy_data + "mkdir {tmp}/data/notes",
       prepare + "--out {tmp}/data --overwrite", 1,
       "{tmp}/data/notes: not written by electra prepare", {"{tmp}/data/notes"}},
      {"PrepareFileNameWithByteFF", "cp {text} {tmp}/$(printf 'a\\xffb.txt')",
       "{E} prepare --input {tmp}/a*b.txt --out {tmp}/o --seq-len 64", 0, "manifest",
       {"{tmp}/o/manifest.json"}},
      {"PrepareEmptyInput", "touch {tmp}/empty.txt",
       "{E} prepare --input {tmp}/empty.txt --out {tmp}/o", 1, "{tmp}/empty.txt", {},
       {"{tmp}/o/manifest.json"}},
      {"PrepareNvidiaFolderWithoutShards", "mkdir {tmp}/n",
       "{E} prepare --from-nvidia-shards {tmp}/n --out {tmp}/o", 1, "{tmp}/n", {},
       {"{tmp}/o/manifest.json"}},

      // ---- manifests and shards ----
      {"PretrainManifestCountsWrong",
       copy_data + set_json("{tmp}/data/manifest.json", "num_examples", "9999"),
       "{E} pretrain --data {tmp}/data --model tiny --batch-size 4 --train-steps 2 --out {tmp}/r",
       1, "manifest.json says 9999 examples", {}, {"{tmp}/r/FINISHED"}},
      {"VerifyManifestCountsWrong",
       copy_data + set_json("{tmp}/data/manifest.json", "num_examples", "9999"),
       "{E} verify --data {tmp}/data", 1, "manifest.json says 9999 examples", {}},
      {"PretrainManifestNotJson", copy_data + "echo '{oops' > {tmp}/data/manifest.json",
       "{E} pretrain --data {tmp}/data --model tiny --out {tmp}/r", 1,
       "{tmp}/data/manifest.json: not valid JSON", {}},
      {"PretrainManifestFieldWrongType",
       copy_data + set_json("{tmp}/data/manifest.json", "max_seq_length", "\"long\""),
       "{E} pretrain --data {tmp}/data --model tiny --out {tmp}/r", 1, "max_seq_length", {}},
      {"VerifyManifestMissing", copy_data + "rm {tmp}/data/manifest.json",
       "{E} verify --data {tmp}/data", 1, "manifest.json", {}},
      {"PretrainTruncatedShard", copy_data + "truncate -s 3000 {tmp}/data/train-00000.h5",
       "{E} pretrain --data {tmp}/data --model tiny --batch-size 4 --train-steps 2 --out {tmp}/r",
       1, "train-00000.h5", {}, {"{tmp}/r/FINISHED"}},
      {"VerifyTruncatedShard", copy_data + "truncate -s 3000 {tmp}/data/train-00000.h5",
       "{E} verify --data {tmp}/data", 1, "train-00000.h5", {}},

      // ---- models: configs against weights, sane limits, damaged files, NaN weights ----
      {"ScoreCheckpointConfigDisagreesWithWeights",
       copy_run + set_json(tmp_ckpt + "/model_config.json", "intermediate_size", "256"),
       "{E} score --model " + tmp_ckpt + " --text hello", 1,
       "does not match its weights", {}},
      {"InspectCheckpointConfigDisagreesWithWeights",
       copy_run + set_json(tmp_ckpt + "/model_config.json", "intermediate_size", "256"),
       "{E} inspect --model " + tmp_ckpt, 1, "does not match its weights", {}},
      {"ScoreHfConfigHugeHidden", copy_hf + set_json(hf_config, "hidden_size", "1099511627776"),
       "{E} score --model {tmp}/hf --text hello", 1, "hidden_size 1099511627776", {}},
      {"ScoreHfConfigNegativeVocab", copy_hf + set_json(hf_config, "vocab_size", "-3"),
       "{E} score --model {tmp}/hf --text hello", 1, "vocab_size", {}},
      {"ScoreHfConfigHeadsDoNotDivide", copy_hf + set_json(hf_config, "num_attention_heads", "3"),
       "{E} score --model {tmp}/hf --text hello", 1, "num_attention_heads", {}},
      {"ScoreHfConfigNotJson", copy_hf + "echo '{' > " + hf_config,
       "{E} score --model {tmp}/hf --text hello", 1, "not valid JSON", {}},
      {"ScoreHfWeightsTruncated",
       copy_hf + "truncate -s 5000 {tmp}/hf/discriminator/model.safetensors",
       "{E} score --model {tmp}/hf --text hello", 1, "model.safetensors", {}},
      {"PretrainResumeTruncatedOptimizer",
       copy_run + "rm {tmp}/run/FINISHED && truncate -s 100 " + tmp_ckpt + "/optimizer.pt",
       pretrain + "--out {tmp}/run --train-steps 4", 1, "optimizer.pt", {}},
      {"ScoreTruncatedModel", copy_run + "truncate -s 100 " + tmp_ckpt + "/model.pt",
       "{E} score --model " + tmp_ckpt + " --text hello", 1, "model.pt", {}},
      {"ExportCheckpointWithoutComplete", copy_run + "rm " + tmp_ckpt + "/COMPLETE",
       "{E} export --checkpoint " + tmp_ckpt + " --out {tmp}/x", 1, "COMPLETE", {},
       {"{tmp}/x/discriminator"}},
      {"ScoreNanWeights", "", "{E} score --model {nan_run} --text hello", 1,
       "non-finite", {}},
      {"ExportNanWeights", "", "{E} export --checkpoint {nan_run} --out {tmp}/x", 1,
       "non-finite", {}, {"{tmp}/x/discriminator"}},
      {"FinetuneNanWeights", "",
       "{E} finetune --model {nan_run} --train {sst} --dev {sst} --out {tmp}/f --threads 1", 1,
       "non-finite", {}, {"{tmp}/f/results.json"}},
      {"PretrainResumeNanWeights", "cp -r {nan_run} {tmp}/run && rm {tmp}/run/FINISHED",
       pretrain + "--out {tmp}/run --train-steps 4", 1, "non-finite", {},
       {"{tmp}/run/checkpoints/step-00000004"}},
      {"ImportHfNanWeights", "", "{E} import-hf --model {nan_hf} --out {tmp}/r", 1, "non-finite",
       {}, {"{tmp}/r/checkpoints/step-00000000/COMPLETE"}},
      {"ScoreHfNanWeights", "", "{E} score --model {nan_hf} --text hello", 1, "non-finite", {}},
      {"ImportHfVocabOfOtherSize",
       "(head -n 1 {vocab}; sed -n '101,104p' {vocab}; sed -n '1000,1092p' {vocab}) > {tmp}/v.txt && " +
       copy_hf +
       "rm {tmp}/hf/vocab.txt",
       "{E} import-hf --model {tmp}/hf --out {tmp}/r --vocab {tmp}/v.txt", 1,
       "{tmp}/v.txt has 98 tokens; the model's vocab_size is 30522", {},
       {"{tmp}/r/checkpoints/step-00000000/COMPLETE"}},
      {"ImportHfIntoAnExistingRun", copy_run + "true",
       "{E} import-hf --model {hf} --out {tmp}/run", 1, "holds a run", {"{tmp}/run/FINISHED"},
       {"{tmp}/run/checkpoints/step-00000000"}},
      {"ImportHfModelMissing", "", "{E} import-hf --model {tmp}/none --out {tmp}/r", 1,
       "{tmp}/none", {}},
      {"ExportOutHoldsAnExport", "mkdir -p {tmp}/x/discriminator && echo mine > "
       "{tmp}/x/discriminator/config.json",
       "{E} export --checkpoint {run} --out {tmp}/x", 1, "--overwrite",
       {"{tmp}/x/discriminator/config.json"}},
      {"ExportOutIsAFile", "echo mine > {tmp}/x", "{E} export --checkpoint {run} --out {tmp}/x", 1,
       "--out {tmp}/x: a file, not a folder", {"{tmp}/x"}},
      {"ExportOverwriteKeepsAUsersFile", "mkdir -p {tmp}/x && echo mine > {tmp}/x/notes.txt && "
       "{E} export --checkpoint {run} --out {tmp}/x/sub >/dev/null 2>&1 && "
       "mv {tmp}/x/sub/discriminator {tmp}/x/sub/generator {tmp}/x/ && rm -r {tmp}/x/sub",
       "{E} export --checkpoint {run} --out {tmp}/x --overwrite", 1,
       "{tmp}/x/notes.txt: not written by electra export", {"{tmp}/x/notes.txt",
       "{tmp}/x/discriminator/config.json"}},

      // ---- fine-tuning inputs ----
      {"FinetuneColaFormatOnTwoColumns", "printf 'a\\tb\\nc\\td\\n' > {tmp}/two.tsv",
       "{E} finetune --model {run} --train {tmp}/two.tsv --dev {tmp}/two.tsv --out {tmp}/f "
       "--format cola --threads 1",
       1, "{tmp}/two.tsv line 1: CoLA's layout has 4 columns", {}, {"{tmp}/f/results.json"}},
      {"FinetuneMaxSeqLenBeyondPositions", "", finetune + "--out {tmp}/f --max-seq-len 1000", 2,
       "--max-seq-len 1000: the model has 128 positions", {}, {"{tmp}/f/results.json"}},
      {"FinetuneMetricUnknownBeforeTraining", "", finetune + "--out {tmp}/f --metric bogus", 2,
       "--metric bogus: not a dev metric", {}, {"{tmp}/f/results.json", "{tmp}/f/best"}},
      {"FinetuneTaskTypeUnknown", "", finetune + "--out {tmp}/f --task-type bogus", 2,
       "--task-type", {}},
      {"FinetuneFormatUnknown", "", finetune + "--out {tmp}/f --format bogus", 2,
       "unknown task format 'bogus'", {}},
      {"FinetuneEmptyTrain", "touch {tmp}/e.tsv",
       "{E} finetune --model {run} --train {tmp}/e.tsv --dev {sst} --out {tmp}/f --threads 1", 1,
       "{tmp}/e.tsv", {}, {"{tmp}/f/results.json"}},
      {"FinetuneRegressionLabelNotANumber", "printf 'good film\tpos\nbad film\tneg\n' > {tmp}/w.tsv",
       "{E} finetune --model {run} --train {tmp}/w.tsv --dev {tmp}/w.tsv --out {tmp}/f "
       "--task-type regression --format generic --threads 1",
       1, "label 'pos' is not a number", {}},
      {"FinetuneSpanOnATsv", "", finetune + "--out {tmp}/f --task-type span", 1, "{sst}", {}},
      {"FinetuneTokenOnATsv", "printf 'just words here\\n' > {tmp}/t.conll",
       "{E} finetune --model {run} --train {tmp}/t.conll --dev {tmp}/t.conll --out {tmp}/f "
       "--task-type token --threads 1",
       1, "{tmp}/t.conll", {}},
      {"FinetuneSquadNotJson", "echo '{' > {tmp}/q.json",
       "{E} finetune --model {run} --train {tmp}/q.json --dev {tmp}/q.json --out {tmp}/f "
       "--threads 1",
       1, "{tmp}/q.json", {}},
      {"FinetuneOutHoldsAFinetune", "cp -r {ft} {tmp}/f", finetune + "--out {tmp}/f", 1,
       "{tmp}/f: holds a fine-tuned model; choose another --out or pass --overwrite",
       {"{tmp}/f/results.json", "{tmp}/f/best"}},
      {"FinetuneOutIsAFile", "echo mine > {tmp}/f", finetune + "--out {tmp}/f", 1,
       "--out {tmp}/f: a file, not a folder", {"{tmp}/f"}},
      {"EvaluateAnswersWithoutData", "echo '{}' > {tmp}/a.json",
       "{E} evaluate --answers {tmp}/a.json", 2, "--data", {}},
      {"EvaluatePretrainedModelNotFinetuned", "", "{E} evaluate --model {run} --data {sst}", 1,
       "{run}", {}},

      // ---- sweeps ----
      {"SweepTaskNameLeavesOut", "",
       "{E} sweep --checkpoints {run} --task '../../x:{sst}:{sst}' --epochs 1 --seeds 1 --out "
       "{tmp}/s --threads 1",
       2, "the name '../../x' must be letters, digits", {}, {"{tmp}/x"}},
      {"SweepTaskMalformed", "", "{E} sweep --checkpoints {run} --task sst --out {tmp}/s", 2,
       "--task", {}},
      {"SweepCheckpointsMissing", "",
       "{E} sweep --checkpoints {tmp}/none --task sst:{sst}:{sst} --out {tmp}/s --threads 1", 1,
       "{tmp}/none", {}},
      {"SweepTrainMissing", "",
       "{E} sweep --checkpoints {run} --task sst:{tmp}/none.tsv:{sst} --out {tmp}/s --threads 1",
       1, "{tmp}/none.tsv", {}},

      // ---- results are not replaced without asking ----
      {"PlotOutIsNotAPng", "echo 'my notes' > {tmp}/notes.txt",
       "{E} plot --run {run} --out {tmp}/notes.txt", 1,
       "{tmp}/notes.txt: exists and is not a PNG", {"{tmp}/notes.txt"}},
      {"PlotOutExistingPngNeedsOverwrite", "printf '\\x89PNG\\r\\n' > {tmp}/c.png",
       "{E} plot --run {run} --out {tmp}/c.png", 1, "--overwrite", {"{tmp}/c.png"}},
      {"PretrainOutIsAFile", "echo mine > {tmp}/r", pretrain + "--out {tmp}/r", 1,
       "--out {tmp}/r: a file, not a folder", {"{tmp}/r"}},
      {"PretrainOutInsideAFile", "echo mine > {tmp}/r", pretrain + "--out {tmp}/r/sub", 1,
       "--out {tmp}/r/sub: {tmp}/r is a file", {"{tmp}/r"}},

      // ---- a second writer of one output folder fails at once, naming the first ----
      {"PrepareOutputLocked", hold_lock("{tmp}/o/.electra.lock"), prepare + "--out {tmp}/o", 1,
       "being written by process ", {}, {"{tmp}/o/manifest.json"}},
      {"PretrainOutputLocked", hold_lock("{tmp}/r/.electra.lock"), pretrain + "--out {tmp}/r", 1,
       "being written by process ", {}, {"{tmp}/r/checkpoints"}},
      {"FinetuneOutputLocked", hold_lock("{tmp}/f/.electra.lock"), finetune + "--out {tmp}/f", 1,
       "being written by process ", {}, {"{tmp}/f/results.json"}},
      {"SweepOutputLocked", hold_lock("{tmp}/s/.electra.lock"), sweep + "--out {tmp}/s", 1,
       "being written by process ", {}, {"{tmp}/s/results.csv"}},
      {"ExportOutputLocked", hold_lock("{tmp}/x/.electra.lock"),
       "{E} export --checkpoint {run} --out {tmp}/x", 1, "being written by process ", {},
       {"{tmp}/x/discriminator"}},
      {"ImportHfOutputLocked", hold_lock("{tmp}/r/.electra.lock"),
       "{E} import-hf --model {hf} --out {tmp}/r", 1, "being written by process ", {},
       {"{tmp}/r/checkpoints"}},
      {"VocabOutputLocked", hold_lock("{tmp}/v.txt.lock"),
       "{E} vocab --input {text} --out {tmp}/v.txt --size 200", 1, "being written by process ",
       {}, {"{tmp}/v.txt"}},
      {"PlotOutputLocked", hold_lock("{tmp}/c.png.lock"), "{E} plot --run {run} --out {tmp}/c.png",
       1, "being written by process ", {}, {"{tmp}/c.png"}},
  };
}

}  // namespace electra
