// See phrases.h. Built-in pattern table + Hyperscan compile/scan glue.
#include "features/phrases.h"

#include <hs/hs.h>

#include <array>
#include <cctype>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/utf8.h"

namespace dg::features {

// The built-in databases serialised at build time (generated phrase_db.cc, written by
// tools/phrase_db_gen.cc, which itself defines them empty: a size of 0 means "compile").
extern const unsigned long kEmbeddedPhraseDbUtf8Size;
extern const unsigned char kEmbeddedPhraseDbUtf8[];
extern const unsigned long kEmbeddedPhraseDbAsciiSize;
extern const unsigned char kEmbeddedPhraseDbAscii[];
namespace {

// clang-format off
constexpr PhrasePattern kBuiltin[] = {
    // ---- Chain-of-thought elicitation -------------------------------------------------------
    {kCotElicit, R"(\b(think|reason|work|go)\b[^.\n]{0,24}\bstep[\s-]*by[\s-]*step\b)"},
    {kCotElicit,
     R"(\bstep[\s-]*by[\s-]*step\s+(reasoning|thinking|solution|derivation|rationale)\b)"},
    {kCotElicit, R"(\bexplain\s+(your|the)\s+(reasoning|thought\s+process|thinking|logic)\b)"},
    {kCotElicit,
     R"(\bshow\s+(me\s+)?(all\s+(of\s+)?)?(your|the)\s+(full\s+|complete\s+|detailed\s+|entire\s+|whole\s+|step[\s-]by[\s-]step\s+)?(reasoning|thought\s+process|thinking|work(ing)?|chain\s+of\s+thought)\b)"},
    {kCotElicit, R"(\b(reasoning|thinking)\s+(process|trace|steps)\b)"},
    {kCotElicit,
     R"(\blet'?s\s+(think|reason|work\s+(this|it)\s+out|break\s+(this|it)\s+down)\b)"},
    {kCotElicit,
     "(^|\\W)let’s\\s+(think|reason|work\\s+(this|it)\\s+out|break\\s+(this|it)\\s+down)"},
    {kCotElicit, R"(<\/?think(ing)?>)"},
    {kCotElicit, R"(\bchain[\s-]+of[\s-]+thoughts?\b)"},
    {kCotElicit,
     R"(\b(output|write|give|provide|include|print|reveal)\s+(out\s+)?(your|the|all)\s+(full\s+|complete\s+|detailed\s+|internal\s+|hidden\s+|entire\s+)?(reasoning|thoughts|rationale|scratchpad)\b)"},
    {kCotElicit, R"(\bthink\s+(carefully|out\s+loud|aloud)\s+(before|and|then)\b)"},
    {kCotElicit, R"(\bthink\s+(out\s+loud|aloud)\s*[:,.]|\breason\s+through\s+(this|it|the)\b)"},
    {kCotElicit,
     R"(\bwalk\s+me\s+through\s+(your|the)\s+(thinking|reasoning|thought\s+process|logic)\b)"},
    {kCotElicit,
     R"(\blet'?s\s+work\s+through\s+(this|it)\b|\bwork\s+through\s+(this|it)\s+(carefully|step))"},
    {kCotElicit,
     R"(一步一步|一步步|逐步(思考|推理|分析|解答|解决|推导|说明)|(详细|完整)的?(推理|思考|解题)过程|推理过程|思考过程|思维链)"},
    {kCotElicit,
     R"(\bpaso\s+a\s+paso\b|\bmuestra\s+tu\s+razonamiento\b|\brazona\s+(paso|detenidamente)\b)"},
    {kCotElicit, "(^|\\W)[ée]tape\\s+par\\s+[ée]tape"},
    {kCotElicit, R"(\bmontre[zr]?\s+(ton|votre)\s+raisonnement\b)"},
    {kCotElicit, "(^|\\W)schritt\\s+f(ü|ue)r\\s+schritt"},
    {kCotElicit, R"(\bdenk(e|en\s+sie)?\s+schrittweise\b)"},
    {kCotElicit,
     "шаг\\s+за\\s+шагом|пошагово|рассужда(й|йте)\\s+по\\s+шагам|покажи\\s+(свои|ход)\\s+"
     "рассуждени"},
    {kCotElicit,
     "ステップバイステップ|段階的に(考え|説明|推論)|一歩ずつ|順を追って(考え|説明)"},
    {kCotElicit, "단계별로|차근차근|단계적으로\\s*(생각|추론|설명)"},
    {kCotElicit, R"(\bpasso\s+a\s+passo\b|\bpasso\s+dopo\s+passo\b)"},
    {kCotElicit, "(^|\\W)mostre\\s+(seu|o\\s+seu)\\s+racioc[ií]nio"},

    // ---- Reasoning / answer format demands --------------------------------------------------
    {kReasoningFormat,
     R"(<\/?(reasoning|rationale|scratchpad|thoughts?|analysis|answer|solution|final_answer)>)"},
    {kReasoningFormat,
     R"(\b(reasoning|thinking|thoughts|rationale|answer|solution)\s+(in|inside|within|between)\s+(<[a-z_]+>|[^.\n]{0,20}\btags?\b|\\boxed))"},
    {kReasoningFormat, R"(\b(put|place|write|enclose|wrap)\b[^.\n]{0,40}\\boxed)"},
    {kReasoningFormat, R"(^\s*(the\s+)?final\s+answer\s*(is|:))"},
    {kReasoningFormat,
     R"(^\s*the\s+(answer|value\s+of\s+(unknown\s+variable\s+)?\$?x\$?)\s+is\b)"},
    {kReasoningFormat, R"(^\s*(solution|rationale|answer|reasoning)\s*:\s*$)"},
    {kReasoningFormat,
     R"(\b(end|finish|conclude)\s+(your\s+(response|answer|solution)\s+)?with\s+["'`]?(the\s+answer\s+is|final\s+answer|therefore|answer\s*:))"},
    {kReasoningFormat,
     R"(\b(format|structure)\s+your\s+(answer|response)\s+as\s+["'`]?(reasoning|answer|final\s+answer|the\s+answer)\b)"},
    {kReasoningFormat, R"(最终答案[是为：:]|答案(是|为)\s*[：:]|格式[：:]\s*答案)"},

    // ---- Translation templates ------------------------------------------------------------
    {kTranslation, R"(\btranslate\s+(\S+\s+){0,8}(into|to)\s+[a-z]{3,})"},
    {kTranslation, R"(\bback[\s-]?translat)"},
    {kTranslation, R"(\btranslation\s+(from|into)\s+[a-z]{3,})"},
    {kTranslation, R"(\btradu(ce|cir|zca|za|zir|is|isez|ire|ci|rre)\b)"},
    {kTranslation, "(^|\\W)(ü|ue)bersetze"},
    {kTranslation,
     "翻译(成|为|到|一下|以下)|译成|翻訳して|に翻訳|번역해|번역하|переведи|перевести\\s+на|"
     "перевод\\s+на"},

    // ---- Data-generation instructions -----------------------------------------------------
    {kDataGen,
     R"(\b(generate|create|write|produce|come\s+up\s+with|give\s+me|provide|brainstorm)\s+([a-z0-9]+\s+){0,3}(diverse|varied|different|unique|distinct|new)\s+([a-z-]+\s+){0,2}(instructions|examples|tasks|questions|prompts|samples|problems|datapoints|data\s+points|conversations|dialogues|queries)\b)"},
    {kDataGen,
     R"(\b(generate|create|write|produce|list)\s+\d+\s+([a-z-]+\s+){0,3}(instructions|examples|tasks|questions|prompts|samples|problems|pairs|conversations)\b)"},
    {kDataGen, R"(\byou\s+are\s+asked\s+to\s+come\s+up\s+with\b)"},
    {kDataGen, R"(\bhere\s+are\s+the\s+requirements\b)"},
    {kDataGen,
     R"(\b(rewrite|rephrase|paraphrase|reformulate)\s+(the\s+|this\s+|each\s+|these\s+)?(above\s+|following\s+|given\s+|original\s+)?(question|problem|instruction|prompt)s?\b)"},
    {kDataGen,
     R"(\b(create|build|generate|make|synthesi[sz]e|construct)\s+(a\s+|the\s+|an?\s+)?(new\s+|large\s+|synthetic\s+|training\s+|fine[\s-]?tuning\s+|instruction\s+)*(dataset|data\s+set|training\s+data|synthetic\s+data|corpus)\b)"},
    {kDataGen,
     R"(\binstruction[\s-]+(response|output|answer|input)[\s-]+(pairs?|data|triples?)\b)"},
    {kDataGen, R"(^\s*list\s+of\s+\d+\s+(tasks|instructions|examples|questions|prompts)\s*:)"},
    {kDataGen, R"(\bfollow\s+the\s+given\s+examples\b)"},
    {kDataGen, R"(\bthe\s+input\s+field\s+should\b|<noinput>)"},
    {kDataGen,
     R"(生成\s*\d*\s*[个条道组]?\s*(不同|多样|多样化)?的?\s*(指令|问题|样本|例子|任务|数据|对话)|(构建|创建|生成)(一个)?数据集)"},

    // ---- The purpose said out loud: answers collected to train a model ---------------------
    // A standing instruction, not a question about the provider: "will my data be used for
    // training?" names the user's data, not the answers, and does not match.
    {kTrainPurpose,
     R"(\bfor\s+(a|an|my|our)\s+(machine[\s-]learning|ml|fine[\s-]?tuning|distillation|sft|instruction[\s-]tuning)\s+(dataset|data\s*set|corpus)\b)"},
    {kTrainPurpose,
     R"(\b(answers?|responses?|outputs?|replies|completions|generations|explanations)\s+(will|would|are\s+going\s+to|shall)\s+be\s+(used|collected|saved|stored)\s+(for|to|as|in)\s+(train|training|fine[\s-]?tun|distill|(a|our|my)\s+(training\s+)?(dataset|data\s*set|corpus)))"},
    {kTrainPurpose, R"(\b(training|teaching|distilling\s+into|to\s+train)\s+a\s+(student|smaller|small)\s+model\b)"},
    {kTrainPurpose,
     R"(\b(we|i)\s+(are|am)\s+(distilling|collecting\s+(training|fine[\s-]?tuning)\s+data)\b)"},
    {kTrainPurpose, R"((用于|用来)(训练|微调|蒸馏)(模型|小模型|学生模型)|(训练|蒸馏)(学生模型|小模型))"},

    // ---- Role-play -------------------------------------------------------------------------
    {kRoleplay, R"(\b(imagine|pretend|suppose)\s+(that\s+)?you\s+are\s+(a|an|the)\b)"},
    {kRoleplay,
     R"(\bpretend\s+to\s+be\b|\bi\s+want\s+you\s+to\s+act\s+as\b|\bact\s+as\s+(a|an|my|the)\b)"},
    {kRoleplay,
     R"(\bplay\s+the\s+(role|part)\s+of\b|\brole[\s-]?play|\bstay\s+in\s+character\b|\bin\s+character\s+as\b|\btake\s+on\s+the\s+(role|persona)\b)"},
    {kRoleplay, R"(^\s*you\s+are\s+(a|an)\s+)"},
    {kRoleplay,
     "扮演|角色扮演|(^|\\W)act[uú]a\\s+como\\s|(^|\\W)joue[zr]?\\s+le\\s+r[oô]le\\s|представь,?"
     "\\s+"
     "что\\s+ты|сыграй\\s+роль|になりきって|ロールプレイ|역할을\\s*해|역할극"},
    {kRoleplay,
     R"(\bagis\s+comme\b|\bspiele?\s+die\s+rolle\b|\bstell\s+dir\s+vor,?\s+du\s+bist\b|\baja\s+como\b|\bfinja\s+que\b)"},

    // ---- JSON output demands ---------------------------------------------------------------
    {kJsonOutput,
     R"(\b(respond|reply|answer|output|return|format|provide|give|write)\b[^.\n]{0,40}\b(in|as|using)\s+(valid\s+|strict\s+|a\s+|the\s+|pure\s+)?json\b)"},
    {kJsonOutput,
     R"(\b(valid|strict|only|pure|well[\s-]formed|parseable)\s+json\b|\bjson\s+only\b)"},
    {kJsonOutput,
     R"(\bjson\s+(format|schema)\b|\boutput\s+(should|must)\s+be\s+(a\s+)?(valid\s+)?json\b)"},
    {kJsonOutput, R"((formato|format)\s+json\b|\bjson[\s-]*format)"},
    {kJsonOutput, R"((形式|格式)\s*json|json\s*(格式|形式))"},

    // ---- System-prompt probing -------------------------------------------------------------
    {kSystemPromptProbe,
     R"(\b(repeat|print|reveal|output|display|show|recite|dump|leak|tell\s+me)\b[^.\n]{0,30}\byour\s+(\w+\s+)?(instructions|prompt|rules|guidelines|configuration)\b)"},
    {kSystemPromptProbe, R"(\bsystem\s+(prompt|message|instructions)\b)"},
    {kSystemPromptProbe,
     R"(\b(ignore|disregard|forget)\s+(all\s+)?(of\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding)\s+(instructions|prompts?|messages?|directions)\b)"},
    {kSystemPromptProbe,
     R"(\brepeat\s+(everything|all|the\s+text|the\s+words)\b[^.\n]{0,20}\b(above|before)\b|\bwords\s+above\b[^.\n]{0,20}\b(starting|beginning)\s+with\b)"},
    {kSystemPromptProbe,
     "系统提示|重复你的(指令|提示)|системн(ый|ого|ые)\\s+(промпт|инструкци)|システムプロンプト|"
     "시스템\\s*프롬프트"},

    // ---- Exhaustive-answer demands ---------------------------------------------------------
    {kExhaustiveAnswer,
     R"(\bas\s+(detailed|thorough|comprehensive|complete|exhaustive|long|extensive)\s+as\s+possible\b)"},
    {kExhaustiveAnswer, R"(\bcomprehensive(ly)?\b|\bexhaustive(ly)?\b)"},
    {kExhaustiveAnswer,
     R"(\bin\s+(great|full|exhaustive|extensive|maximum|as\s+much)\s+detail\b|\b(very|extremely|highly)\s+detailed\b)"},
    {kExhaustiveAnswer,
     R"(\bleave\s+nothing\s+out\b|\bcover\s+(all|every)\s+(aspects?|possible|edge\s+cases)\b|\bat\s+least\s+\d{3,}\s+words\b)"},
    {kExhaustiveAnswer,
     "尽可能详细|尽量详细|详尽|lo\\s+m[aá]s\\s+detallad[oa]\\s+posible|(aussi|le\\s+plus)\\s+d["
     "ée]"
     "taill[ée]e?\\s+(que\\s+)?possible|so\\s+detailliert\\s+wie\\s+m(ö|oe)glich|"
     "максимально\\s+"
     "подробно|как\\s+можно\\s+подробнее|できるだけ詳しく|최대한\\s*자세히|o\\s+mais\\s+"
     "detalhad["
     "oa]\\s+poss[ií]vel"},

    // ---- Style of the prompt itself
    // ----------------------------------------------------------
    // Instruction-tuning pools are written as self-contained tasks opening with an imperative;
    // people mostly ask questions or describe their own situation. Only the opening counts.
    {kTaskStyle,
     R"(\A\s*(please\s+)?(generate|write|create|classify|categori[sz]e|rewrite|paraphrase|explain|describe|give|list|identify|find|suggest|summari[sz]e|convert|translate|compose|design|construct|name|provide|edit|calculate|compute|compare|contrast|analy[sz]e|determine|outline|develop|make|predict|evaluate|formulate|invent|brainstorm|output|select|choose|arrange|sort|add|delete|remove|replace|produce|detect|assign|change|fill\s+in|complete|state|discuss|propose|implement|debug|optimi[sz]e|refactor|build|draft|recommend|estimate|insert|reverse|extract|combine|split|rank|rate|match|transform|format|correct|proofread|simplify|expand|shorten|solve|prove|define|illustrate|demonstrate|tell\s+me|come\s+up\s+with)\b)"},
    // A persona set up before the task ("You are an alien diplomat... Describe...", "Imagine you
    // are...", "Take the role of..."): the opening of synthetic role-play instruction sets (82% of
    // GPTeacher's role-play prompts); 0-4% of the shared human corpora open that way ("Act as" and
    // "I want you to act as", the prompt collections' style, are left out).
    {kTaskStyle,
     R"(\A\s*(you\s+are\s+(a|an|the)|you're\s+(a|an|the)|(imagine|pretend)\s+(that\s+)?you\s+are|imagine\s+you're|pretend\s+to\s+be|(take\s+(on\s+)?|assume\s+)the\s+(role|persona)\s+of|play\s+the\s+(role|part)\s+of|role[\s-]?play\s+as)\b)"},
    {kTaskStyle,
     "\\A\\s*(生成|写一|请写|编写|创建|分类|改写|解释|描述|列出|总结|翻译|给出|Genera|Escribe|"
     "Crea|Clasifica|"
     "Explica|Describe|Génère|Écris|Rédige|Crée|Classe|Explique|Erstelle|Schreibe|Erkläre|"
     "Beschreibe|"
     "Напиши|Создай|Опиши|Объясни|Перечисли)"},
    // English, German, French and Spanish first-person words are found by the tokeniser
    // (features/text.cc, kFirstPersonWords): cheaper than a \b alternation of short words.
    {kFirstPerson, "我的|我想|我在|我是|我有|(^|\\W)(мне|мой|моя|моё|меня)(\\W|$)"},
};
// clang-format on

constexpr std::array<const char*, kNumPhraseCategories> kNames = {
    "cot_elicit",  "reasoning_format",    "translation",       "data_gen",   "roleplay",
    "json_output", "system_prompt_probe", "exhaustive_answer", "task_style", "first_person",
    "train_purpose"};

bool HasNonAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return true;
  return false;
}

// No byte >= 0x80; eight bytes a step.
bool IsAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    acc |= v;
  }
  for (; n > 0; ++p, --n) acc |= static_cast<unsigned char>(*p);
  return (acc & 0x8080808080808080ULL) == 0;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool IsSingleBit(uint32_t c) { return c != 0 && (c & (c - 1)) == 0 && c <= kAllPhraseCategories; }

// Compiles; on failure returns false with *error set and *bad_index the failing pattern (or -1).
// utf8: the database for any text (UTF-8 mode, UCP where a pattern holds non-ASCII); otherwise
// the byte-mode database used for pure-ASCII text, where both modes match the same spans.
bool Compile(const std::vector<std::string>& regexes, bool utf8, hs_database** out,
             std::string* error, int* bad_index) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  exprs.reserve(regexes.size());
  for (size_t i = 0; i < regexes.size(); ++i) {
    exprs.push_back(regexes[i].c_str());
    unsigned f = HS_FLAG_CASELESS | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH;
    if (utf8) f |= HS_FLAG_UTF8;
    if (utf8 && HasNonAscii(regexes[i])) f |= HS_FLAG_UCP;
    flags.push_back(f);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* cerr = nullptr;
  hs_error_t rc =
      hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, out, &cerr);
  if (rc == HS_SUCCESS) return true;
  *bad_index = cerr ? cerr->expression : -1;
  *error = cerr && cerr->message ? cerr->message : "hs_compile_multi failed";
  if (cerr) hs_free_compile_error(cerr);
  return false;
}

int OnMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* st = static_cast<std::pair<const PhraseMatcherDb*, uint32_t>*>(ctx);
  st->second |= st->first->CategoryOf(id);
  return 0;
}

}  // namespace

const char* PhraseCategoryName(uint32_t bit) {
  if (!IsSingleBit(bit)) return "unknown";
  return kNames[static_cast<size_t>(__builtin_ctz(bit))];
}

uint32_t PhraseCategoryFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (EqualsIgnoreCase(name, kNames[i])) return 1u << i;
  return 0;
}

std::span<const PhrasePattern> BuiltinPhrasePatterns() { return kBuiltin; }

const PhraseMatcherDb& PhraseMatcherDb::Default() {
  static const std::unique_ptr<PhraseMatcherDb> db = [] {
    std::unique_ptr<PhraseMatcherDb> embedded(new PhraseMatcherDb());
    if (embedded->LoadEmbedded()) return embedded;
    return std::make_unique<PhraseMatcherDb>(BuiltinPhrasePatterns());
  }();
  return *db;
}

bool PhraseMatcherDb::LoadEmbedded() {
  if (kEmbeddedPhraseDbUtf8Size == 0 || kEmbeddedPhraseDbAsciiSize == 0) return false;
  hs_database* utf8 = nullptr;
  hs_database* ascii = nullptr;
  if (hs_deserialize_database(reinterpret_cast<const char*>(kEmbeddedPhraseDbUtf8),
                              kEmbeddedPhraseDbUtf8Size, &utf8) != HS_SUCCESS) {
    return false;
  }
  if (hs_deserialize_database(reinterpret_cast<const char*>(kEmbeddedPhraseDbAscii),
                              kEmbeddedPhraseDbAsciiSize, &ascii) != HS_SUCCESS) {
    hs_free_database(utf8);
    return false;
  }
  // A database built for another CPU deserialises but cannot scan here: probe it.
  hs_scratch* probe = nullptr;
  const bool usable =
      hs_alloc_scratch(utf8, &probe) == HS_SUCCESS && hs_alloc_scratch(ascii, &probe) == HS_SUCCESS;
  if (probe) hs_free_scratch(probe);
  if (!usable) {
    hs_free_database(utf8);
    hs_free_database(ascii);
    return false;
  }
  db_ = utf8;
  ascii_db_ = ascii;
  embedded_ = true;
  for (const auto& p : BuiltinPhrasePatterns()) {
    categories_.push_back(p.category);
    regexes_.emplace_back(p.regex);
  }
  return true;
}

PhraseMatcherDb::PhraseMatcherDb(std::span<const PhrasePattern> patterns) {
  std::string err;
  int bad = -1;
  Init(patterns, &err, &bad);
  if (db_ == nullptr) {
    std::string msg = "PhraseMatcherDb: " + err;
    if (bad >= 0 && static_cast<size_t>(bad) < regexes_.size())
      msg += " (pattern " + std::to_string(bad) + ": " + regexes_[bad] + ")";
    throw std::invalid_argument(msg);
  }
}

PhraseMatcherDb::PhraseMatcherDb(std::span<const PhrasePattern> patterns, std::string* error,
                                 int* bad_index) {
  Init(patterns, error, bad_index);
}

void PhraseMatcherDb::Init(std::span<const PhrasePattern> patterns, std::string* error,
                           int* bad_index) {
  *bad_index = -1;
  if (patterns.empty()) {
    *error = "no patterns";
    return;
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    categories_.push_back(patterns[i].category);
    regexes_.emplace_back(patterns[i].regex);
    if (!IsSingleBit(patterns[i].category)) {
      *error = "invalid category";
      *bad_index = static_cast<int>(i);
      return;
    }
  }
  if (!Compile(regexes_, /*utf8=*/true, &db_, error, bad_index)) {
    db_ = nullptr;
    return;
  }
  // A pattern valid in UTF-8 mode is valid in byte mode; if not, every text takes the UTF-8 path.
  std::string ignored;
  int ignored_index = -1;
  if (!Compile(regexes_, /*utf8=*/false, &ascii_db_, &ignored, &ignored_index)) {
    ascii_db_ = nullptr;
  }
}

PhraseMatcherDb::~PhraseMatcherDb() {
  if (db_) hs_free_database(db_);
  if (ascii_db_) hs_free_database(ascii_db_);
}

std::unique_ptr<PhraseMatcherDb> PhraseMatcherDb::FromFile(const std::string& path,
                                                           std::string* error,
                                                           bool include_builtin) {
  std::string sink;
  if (!error) error = &sink;
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return nullptr;
  }
  std::vector<std::string> storage;  // owns regex text
  std::vector<uint32_t> cats;
  std::vector<int> line_of;  // pattern index -> file line (0 = builtin)
  if (include_builtin) {
    for (const auto& p : BuiltinPhrasePatterns()) {
      storage.emplace_back(p.regex);
      cats.push_back(p.category);
      line_of.push_back(0);
    }
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos || tab + 1 >= line.size()) {
      *error = path + ":" + std::to_string(lineno) + ": expected 'category<TAB>regex'";
      return nullptr;
    }
    std::string_view cat_name(line.data(), tab);
    while (!cat_name.empty() && cat_name.front() == ' ') cat_name.remove_prefix(1);
    while (!cat_name.empty() && cat_name.back() == ' ') cat_name.remove_suffix(1);
    uint32_t cat = PhraseCategoryFromName(cat_name);
    if (cat == 0 && cat_name.size() == 1 && cat_name[0] >= '0' && cat_name[0] <= '7')
      cat = 1u << (cat_name[0] - '0');
    if (cat == 0) {
      *error = path + ":" + std::to_string(lineno) + ": unknown category '" +
               std::string(cat_name) + "'";
      return nullptr;
    }
    storage.push_back(line.substr(tab + 1));
    cats.push_back(cat);
    line_of.push_back(lineno);
  }
  if (storage.empty()) {
    *error = path + ": no patterns";
    return nullptr;
  }
  std::vector<PhrasePattern> pats;
  for (size_t i = 0; i < storage.size(); ++i) pats.push_back({cats[i], storage[i]});
  std::string err;
  int bad = -1;
  std::unique_ptr<PhraseMatcherDb> db(new PhraseMatcherDb(pats, &err, &bad));
  if (db->db_ == nullptr) {
    if (bad >= 0 && static_cast<size_t>(bad) < line_of.size() && line_of[bad] > 0)
      *error = path + ":" + std::to_string(line_of[bad]) + ": " + err;
    else
      *error = path + ": " + err;
    return nullptr;
  }
  return db;
}

PhraseMatcher::PhraseMatcher(const PhraseMatcherDb& db) : db_(db) {
  if (hs_alloc_scratch(db.db(), &scratch_) != HS_SUCCESS ||
      (db.ascii_db() && hs_alloc_scratch(db.ascii_db(), &scratch_) != HS_SUCCESS))
    throw std::runtime_error("PhraseMatcher: hs_alloc_scratch failed");
  sanitized_.reserve(4096);
}

PhraseMatcher::~PhraseMatcher() {
  if (scratch_) hs_free_scratch(scratch_);
}

uint32_t PhraseMatcher::Match(std::string_view text) {
  if (text.empty()) return 0;
  if (db_.ascii_db() && IsAscii(text)) {
    // Most prompts are pure ASCII: no validation, and the byte-mode database scans faster.
    std::pair<const PhraseMatcherDb*, uint32_t> st{&db_, 0};
    hs_error_t rc = hs_scan(db_.ascii_db(), text.data(), static_cast<unsigned>(text.size()), 0,
                            scratch_, OnMatch, &st);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return 0;
    return st.second;
  }
  return MatchUtf8(text);
}

uint32_t PhraseMatcher::MatchUtf8(std::string_view text) {
  if (text.empty()) return 0;
  std::pair<const PhraseMatcherDb*, uint32_t> st{&db_, 0};
  if (!IsValidUtf8(text)) {
    // Replace each invalid byte with '?', keeping valid sequences; capacity is reused.
    sanitized_.clear();
    size_t i = 0;
    while (i < text.size()) {
      size_t len = Utf8SequenceLength(text.substr(i));
      if (len == 0) {
        sanitized_.push_back('?');
        ++i;
      } else {
        sanitized_.append(text.data() + i, len);
        i += len;
      }
    }
    text = sanitized_;
  }
  hs_error_t rc =
      hs_scan(db_.db(), text.data(), static_cast<unsigned>(text.size()), 0, scratch_, OnMatch, &st);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return 0;
  return st.second;
}

}  // namespace dg::features
