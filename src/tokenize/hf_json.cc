// Loading a Hugging Face tokenizer.json (tokenizers' serialisation, "version": "1.0") into the
// pipeline of tokenizer_impl.h.
//
// Supported, because the byte-level BPE models use them: model BPE (merges as "a b" strings or
// ["a", "b"] pairs, ignore_merges, unk_token/fuse_unk); normalizers NFC/NFD/NFKC/NFKD and
// Sequence; pre-tokenizers Split (Regex or String pattern, all five behaviours, invert),
// ByteLevel (add_prefix_space, use_regex), Digits and Sequence; added tokens with their
// special/normalized/lstrip/rstrip/single_word flags. Anything else (WordPiece/Unigram models,
// SentencePiece-style byte_fallback, BPE dropout, other normalizers and pre-tokenizers) is
// refused at load with its name, never silently ignored. post_processor and decoder are not
// needed: ids are encoded without template tokens (add_special_tokens=False), and decoding is the
// byte-level inverse.
#include <fmt/format.h>
#include <simdjson.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_impl.h"

namespace dg::tokenize {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Optional boolean field: absent or null gives `def`; another type is an error.
bool GetBool(object o, std::string_view key, bool def, bool* out, std::string* err) {
  element e;
  if (o[key].get(e) || e.is_null()) return *out = def, true;
  if (e.get_bool().get(*out)) {
    *err = fmt::format("\"{}\" is not a boolean", key);
    return false;
  }
  return true;
}

bool GetString(object o, std::string_view key, std::string_view* out, std::string* err) {
  if (o[key].get_string().get(*out)) {
    *err = fmt::format("\"{}\" missing or not a string", key);
    return false;
  }
  return true;
}

class Loader {
 public:
  explicit Loader(Tokenizer::Impl* im) : im_(*im) {}

  bool Run(element root, std::string* err) {
    object top;
    if (root.get_object().get(top)) return Fail(err, "top level is not a JSON object");
    element e;
    if (!top["normalizer"].get(e) && !e.is_null() && !Normalizer(e, err)) return false;
    if (!top["pre_tokenizer"].get(e) && !e.is_null() && !PreTokenizer(e, err)) return false;
    if (!byte_level_) {
      return Fail(err,
                  "not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer); only byte-level "
                  "BPE is supported");
    }
    if (top["model"].get(e)) return Fail(err, "no \"model\"");
    if (!Model(e, err)) return false;
    if (!top["added_tokens"].get(e) && !e.is_null() && !AddedTokens(e, err)) return false;
    return im_.BuildMatchers(err);
  }

 private:
  static bool Fail(std::string* err, std::string msg) {
    *err = std::move(msg);
    return false;
  }

  bool Normalizer(element e, std::string* err) {
    object o;
    std::string_view type;
    if (e.get_object().get(o) || !GetString(o, "type", &type, err)) {
      return Fail(err, "normalizer: not an object with a \"type\"");
    }
    if (type == "Sequence") {
      array a;
      if (o["normalizers"].get_array().get(a)) {
        return Fail(err, "normalizer Sequence: \"normalizers\" is not an array");
      }
      for (element n : a) {
        if (!Normalizer(n, err)) return false;
      }
      return true;
    }
    NormalForm f;
    if (!ParseNormalForm(type, &f)) {
      return Fail(err, fmt::format("unsupported normalizer \"{}\" (supported: NFC, NFD, NFKC, "
                                   "NFKD, Sequence)",
                                   type));
    }
    im_.normalizer.push_back(f);
    return true;
  }

  bool AddSplit(std::string_view pattern, bool literal, SplitBehavior b, bool invert,
                std::string* err) {
    PreTokenStep step;
    step.regex = Regex::Compile(pattern, literal, err);
    if (!step.regex) return false;
    step.behavior = b;
    step.invert = invert;
    im_.steps.push_back(std::move(step));
    return true;
  }

  bool PreTokenizer(element e, std::string* err) {
    object o;
    std::string_view type;
    if (e.get_object().get(o) || !GetString(o, "type", &type, err)) {
      return Fail(err, "pre_tokenizer: not an object with a \"type\"");
    }
    if (type == "Sequence") {
      array a;
      if (o["pretokenizers"].get_array().get(a)) {
        return Fail(err, "pre_tokenizer Sequence: \"pretokenizers\" is not an array");
      }
      for (element p : a) {
        if (!PreTokenizer(p, err)) return false;
      }
      return true;
    }
    if (type == "Split") {
      object pat;
      std::string_view behavior, regex, literal;
      bool invert = false;
      if (o["pattern"].get_object().get(pat)) return Fail(err, "Split: no \"pattern\" object");
      if (!GetString(o, "behavior", &behavior, err)) return Fail(err, "Split: " + *err);
      if (!GetBool(o, "invert", false, &invert, err)) return Fail(err, "Split: " + *err);
      SplitBehavior b;
      if (behavior == "Removed") {
        b = SplitBehavior::kRemoved;
      } else if (behavior == "Isolated") {
        b = SplitBehavior::kIsolated;
      } else if (behavior == "MergedWithPrevious") {
        b = SplitBehavior::kMergedWithPrevious;
      } else if (behavior == "MergedWithNext") {
        b = SplitBehavior::kMergedWithNext;
      } else if (behavior == "Contiguous") {
        b = SplitBehavior::kContiguous;
      } else {
        return Fail(err, fmt::format("Split: unknown behavior \"{}\"", behavior));
      }
      if (!pat["Regex"].get_string().get(regex)) return AddSplit(regex, false, b, invert, err);
      if (!pat["String"].get_string().get(literal)) return AddSplit(literal, true, b, invert, err);
      return Fail(err, "Split: pattern is neither {\"Regex\": ...} nor {\"String\": ...}");
    }
    if (type == "ByteLevel") {
      bool prefix = false, use_regex = true;
      if (!GetBool(o, "add_prefix_space", false, &prefix, err) ||
          !GetBool(o, "use_regex", true, &use_regex, err)) {
        return Fail(err, "ByteLevel: " + *err);
      }
      byte_level_ = true;
      if (prefix) {
        PreTokenStep step;
        step.kind = PreTokenStep::Kind::kPrefixSpace;
        im_.steps.push_back(std::move(step));
      }
      if (use_regex) return AddSplit(kGpt2Pattern, false, SplitBehavior::kIsolated, false, err);
      return true;
    }
    if (type == "Digits") {
      bool individual = false;
      if (!GetBool(o, "individual_digits", false, &individual, err)) {
        return Fail(err, "Digits: " + *err);
      }
      // Rust's char::is_numeric is the N categories.
      return AddSplit("\\p{N}", false,
                      individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false,
                      err);
    }
    return Fail(err, fmt::format("unsupported pre_tokenizer \"{}\" (supported: Split, ByteLevel, "
                                 "Digits, Sequence)",
                                 type));
  }

  bool Model(element e, std::string* err) {
    object m;
    if (e.get_object().get(m)) return Fail(err, "\"model\" is not an object");
    std::string_view type = "BPE";
    element te;
    if (!m["type"].get(te) && te.get_string().get(type)) {
      return Fail(err, "model: \"type\" is not a string");
    }
    if (type != "BPE") {
      return Fail(err, fmt::format("unsupported model \"{}\" (only BPE)", type));
    }
    bool byte_fallback = false, ignore_merges = false, fuse_unk = false;
    if (!GetBool(m, "byte_fallback", false, &byte_fallback, err) ||
        !GetBool(m, "ignore_merges", false, &ignore_merges, err) ||
        !GetBool(m, "fuse_unk", false, &fuse_unk, err)) {
      return Fail(err, "model: " + *err);
    }
    if (byte_fallback)
      return Fail(err, "model: byte_fallback BPE (SentencePiece-style) is not supported");
    element d;
    if (!m["dropout"].get(d) && !d.is_null()) {
      double p = 0;
      if (d.get_double().get(p) || p != 0.0) {
        return Fail(err, "model: BPE dropout makes encoding random; only null or 0 is supported");
      }
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      element s;
      std::string_view v;
      if (!m[key].get(s) && !s.is_null() && (s.get_string().get(v) || !v.empty())) {
        return Fail(err, fmt::format("model: a non-empty \"{}\" is not supported", key));
      }
    }
    object vocab;
    if (m["vocab"].get_object().get(vocab)) return Fail(err, "model: \"vocab\" is not an object");
    boost::unordered_flat_map<std::string_view, uint32_t> ids;  // byte-level text -> id
    ids.reserve(vocab.size());
    im_.bpe.Reserve(vocab.size(), 0);
    std::string bytes;
    for (auto field : vocab) {
      uint64_t id;
      if (field.value.get_uint64().get(id)) {
        return Fail(err, fmt::format("model.vocab[\"{}\"]: not an id", field.key));
      }
      if (id > Tokenizer::kMaxTokenId) {
        return Fail(err, fmt::format("model.vocab[\"{}\"]: id {} is above the largest supported "
                                     "token id ({})",
                                     field.key, id, Tokenizer::kMaxTokenId));
      }
      ids.insert_or_assign(field.key, static_cast<uint32_t>(id));
      // Entries outside the byte-level alphabet can only be added tokens.
      if (ByteLevelDecode(field.key, &bytes)) {
        im_.bpe.AddToken(bytes, static_cast<uint32_t>(id));
        im_.SetDecode(static_cast<uint32_t>(id), bytes);
      }
    }
    array merges;
    if (m["merges"].get_array().get(merges)) return Fail(err, "model: \"merges\" is not an array");
    im_.bpe.Reserve(0, merges.size());
    uint32_t rank = 0;
    std::string joined;
    for (element me : merges) {
      std::string_view a, b, s;
      array pair;
      if (!me.get_string().get(s)) {
        const size_t sp = s.find(' ');
        if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos) {
          return Fail(
              err, fmt::format("model.merges[{}] \"{}\": not two space-separated tokens", rank, s));
        }
        a = s.substr(0, sp), b = s.substr(sp + 1);
      } else if (!me.get_array().get(pair) && pair.size() == 2 && !pair.at(0).get_string().get(a) &&
                 !pair.at(1).get_string().get(b)) {
      } else {
        return Fail(err, fmt::format("model.merges[{}]: neither \"a b\" nor [\"a\", \"b\"]", rank));
      }
      joined.assign(a);
      joined.append(b);
      auto ia = ids.find(a), ib = ids.find(b), ij = ids.find(std::string_view(joined));
      if (ia == ids.end() || ib == ids.end() || ij == ids.end()) {
        return Fail(
            err, fmt::format("model.merges[{}] ({} {}): token not in the vocabulary", rank, a, b));
      }
      im_.bpe.AddMerge(ia->second, ib->second, rank, ij->second);
      ++rank;
    }
    im_.bpe.set_direct_lookup(ignore_merges);
    element unk;
    std::string_view unk_s;
    if (!m["unk_token"].get(unk) && !unk.is_null()) {
      if (unk.get_string().get(unk_s)) return Fail(err, "model: \"unk_token\" is not a string");
      auto it = ids.find(unk_s);
      if (it == ids.end())
        return Fail(err, fmt::format("model: unk_token \"{}\" not in vocab", unk_s));
      im_.bpe.set_unknown(it->second, fuse_unk);
    }
    return true;
  }

  bool AddedTokens(element e, std::string* err) {
    array a;
    if (e.get_array().get(a)) return Fail(err, "\"added_tokens\" is not an array");
    size_t i = 0;
    for (element t : a) {
      object o;
      AddedToken tok;
      std::string_view content;
      uint64_t id;
      if (t.get_object().get(o) || o["id"].get_uint64().get(id) ||
          !GetString(o, "content", &content, err) || content.empty()) {
        return Fail(
            err, fmt::format("added_tokens[{}]: needs an \"id\" and a non-empty \"content\"", i));
      }
      if (id > Tokenizer::kMaxTokenId) {
        return Fail(err, fmt::format("added_tokens[{}]: id {} is above the largest supported token "
                                     "id ({})",
                                     i, id, Tokenizer::kMaxTokenId));
      }
      tok.id = static_cast<uint32_t>(id);
      tok.content = std::string(content);
      if (!GetBool(o, "special", false, &tok.special, err) ||
          !GetBool(o, "normalized", !tok.special, &tok.normalized, err) ||
          !GetBool(o, "lstrip", false, &tok.lstrip, err) ||
          !GetBool(o, "rstrip", false, &tok.rstrip, err) ||
          !GetBool(o, "single_word", false, &tok.single_word, err)) {
        return Fail(err, fmt::format("added_tokens[{}]: {}", i, *err));
      }
      im_.SetDecode(tok.id, tok.content);
      im_.added.push_back(std::move(tok));
      ++i;
    }
    return true;
  }

  Tokenizer::Impl& im_;
  bool byte_level_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::FromHuggingFaceJson(std::string_view json, std::string* err) {
  simdjson::dom::parser parser;
  element root;
  simdjson::padded_string padded(json);
  if (auto e = parser.parse(padded).get(root); e) {
    *err = fmt::format("tokenizer.json: malformed JSON ({})", simdjson::error_message(e));
    return nullptr;
  }
  auto im = std::make_unique<Impl>();
  im->name = "tokenizer.json";
  Loader loader(im.get());
  if (!loader.Run(root, err)) {
    *err = "tokenizer.json: " + *err;
    return nullptr;
  }
  return Impl::Wrap(std::move(im));
}

}  // namespace dg::tokenize
