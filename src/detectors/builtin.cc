// The first set of detectors. Each compares shares of an account's requests with what ordinary
// use looks like, and needs a minimum number of requests before it speaks (Support()).
//
// - output_volume: output tokens per active day against the peer median.
// - extraction_params: logprobs/top_logprobs, logit_bias sweeps, n>1 sampling, max_tokens≤1.
// - cot_elicitation: prompts or system prompts demanding the full reasoning, reasoning_effort.
// - template_harvest: many distinct prompts pushed through few templates for long answers
//   (a batch job also has one template, but asks for tiny outputs; a SaaS app has one system
//   prompt but free-form user prompts).
// - datagen_phrases: instructions to generate data sets, translation pairs, rewrites.
// - stated_purpose (intent): prompts or system prompts saying the answers train a model.
// - instruction_pool: opening prompts that read like an instruction-tuning set.
// - client_rotation: many agents or networks with none dominant, or networks (ISPs) changing
//   between requests minutes apart: a proxy pool and a rotation list, not a person.
// - around_the_clock, coordinated_accounts: no sleep; linked fresh accounts on one template.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "detectors/detector.h"

namespace dg::detectors {

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kHarvest:
      return "harvest";
    case Family::kPace:
      return "pace";
    case Family::kConcealment:
      return "concealment";
    case Family::kCoordination:
      return "coordination";
    case Family::kIntent:
      return "intent";
  }
  return "harvest";
}

std::string Pct(double x) { return fmt::format("{:.0f}%", 100.0 * x); }

std::string Tokens(double x) {
  if (x >= 1e9) return fmt::format("{:.1f}B", x / 1e9);
  if (x >= 1e6) return fmt::format("{:.1f}M", x / 1e6);
  if (x >= 1e3) return fmt::format("{:.1f}k", x / 1e3);
  return fmt::format("{:.0f}", x);
}

namespace {

// How much a cluster acts as one operator: three or more linked members, most of them new (first
// active soon after sign-up) and pushing most prompts through one template. The accounts of an
// established company are not new; a campaign that creates accounts to spread its take over them
// is (CoordinatedAccounts).
double ActingAsOne(const state::AccountState& s) {
  if (s.members < 3) return 0;
  const double fresh = static_cast<double>(s.fresh_members) / s.members;
  const double tmpl = std::min(s.prefixes.TopShare(), std::max(s.suffixes.TopShare(), 0.5));
  return Ramp(s.members, 2, 5) * Ramp(fresh, 0.5, 0.9) * Ramp(tmpl, 0.6, 0.9);
}

class OutputVolume final : public Detector {
 public:
  static constexpr int64_t kMinPeers = 20;
  std::string_view name() const override { return "output_volume"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    // A baseline needs enough peers to mean anything.
    if (in.peers.median_output_per_day <= 0 || in.peers.peers < kMinPeers) return 0;
    const double ratio = PerUnitOutput(s) / in.peers.median_output_per_day;
    return Support(s.requests, 10, 60) * Ramp(std::log10(std::max(ratio, 1e-9)), 0.7, 2.0);
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    const double ratio =
        in.peers.median_output_per_day > 0 ? PerUnitOutput(s) / in.peers.median_output_per_day : 0;
    std::string unit;
    if (s.members > 1) {
      const double units = Units(s);
      if (units >= s.members - 0.5) {
        unit = " per member";
      } else if (units < 1.5) {
        unit = fmt::format(" for the cluster as one operator ({} new accounts, one template)",
                           s.members);
      } else {
        unit =
            fmt::format(" per {:.1f} of its {} members (partly acting as one)", units, s.members);
      }
    } else if (s.EndUsers() >= state::kMultiTenantEndUsers) {
      unit = " per end user";
    }
    return fmt::format(
        "{} output tokens/day{} over {:.1f} active days ({} requests, {} output tokens in all), "
        "{:.0f}x the median of {} peer accounts",
        Tokens(PerUnitOutput(s)), unit, s.ActiveDays(), s.requests,
        Tokens(static_cast<double>(s.output_tokens)), ratio, in.peers.peers);
  }

 private:
  // The natural unit: an account, a cluster member, or an end user of a multi-tenant account.
  // A cluster acting as one operator (ActingAsOne: new accounts, one template) is one unit: an
  // operator who spreads a harvest over many accounts takes its sum, which is what the accounts
  // were created to hide. A company's established accounts stay judged one by one.
  // Per active day, where a young account's span counts from one hour rather than six: a
  // harvester running flat out is at its daily rate within its first hour, and someone trying
  // the API in a burst sends tens of requests, not the hundred it takes for full support.
  static double Units(const state::AccountState& s) {
    return std::pow(static_cast<double>(std::max<uint32_t>(s.members, 1)), 1.0 - ActingAsOne(s));
  }
  static double PerUnitOutput(const state::AccountState& s) {
    const double users = s.EndUsers();
    const double per_day = static_cast<double>(s.output_tokens) / s.DaysTaking(1.0 / 24) / Units(s);
    return users >= state::kMultiTenantEndUsers ? per_day / users : per_day;
  }
};

class ExtractionParams final : public Detector {
 public:
  std::string_view name() const override { return "extraction_params"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    const double lp = s.Share(s.top_logprobs_ge5);
    const double lb = s.Share(s.logit_bias);
    const double nn = s.Share(s.n_gt1);
    const double mt1 = s.Share(s.max_tokens_le1);
    // Top logprobs are worth harvesting over generated sequences (a distribution per token of
    // an answer); with max_tokens <= 1 they score a multiple-choice benchmark, which is what
    // evaluation harnesses do with them. Probing one token at a time is extraction when it comes
    // with logit_bias (the published attacks on the output layer push each token in turn).
    const double sequences = 1.0 - Ramp(mt1, 0.5, 0.9);
    double x = std::max({Ramp(lp, 0.2, 0.6) * std::max(sequences, 0.3), Ramp(lb, 0.1, 0.4),
                         Ramp(nn, 0.3, 0.8) * 0.9, Ramp(mt1 * (lb > 0.1 ? 1.0 : 0.3), 0.3, 0.7)});
    return SupportOf(in, s.requests, 10, 40) * x;
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    const double mean_n = s.requests ? static_cast<double>(s.n_sum) / s.requests : 0;
    return fmt::format(
        "of {} requests: {} ask for top_logprobs>=5, {} carry logit_bias, {} use n>1 (mean n "
        "{:.1f}, {} at temperature>=0.9), {} cap max_tokens<=1",
        s.requests, Pct(s.Share(s.top_logprobs_ge5)), Pct(s.Share(s.logit_bias)),
        Pct(s.Share(s.n_gt1)), mean_n, Pct(s.Share(s.temp_high)), Pct(s.Share(s.max_tokens_le1)));
  }
};

// An app serving many end users (a tutoring app, a writing tool, a router's customers) sends
// its own system prompt and wrappers with every request: the style of its prompts as a whole is
// the app's design. It is judged per end user (engine end-user slots), and by volume per end user;
// the prompt-style detectors below say nothing of the account (or of a cluster of such apps, which
// share their system prompt) as a whole. People come back to an
// app: an account whose "end users" each send a request or two (a fresh id per request) is not
// given this exemption, since end users that light are never judged on their own.
bool AppAsAWhole(const DetectorInput& in) {
  const auto& s = in.state;
  const double users = s.EndUsers();
  return !in.host && users >= state::kRelayEndUsers &&
         static_cast<double>(s.requests) >= state::kRelayRequestsPerEndUser * users;
}

// The share of an end user's requests with a property, beyond that of its host's other end users
// (0 when they all have it); for an account or a cluster (no host), its plain share. `own` is the
// end user's count, `host_count` the host's (which includes the end user's).
double Excess(uint32_t own, const state::AccountState& s, const uint32_t* host_count,
              const DetectorInput& in) {
  const double share = s.Share(own);
  if (!in.host || !host_count) return share;
  const double others = static_cast<double>(in.host->requests) - static_cast<double>(s.requests);
  if (others < 50) return share;
  const double base = std::clamp((static_cast<double>(*host_count) - own) / others, 0.0, 1.0);
  if (base >= 0.99) return 0;
  return std::max(0.0, (share - base) / (1 - base));
}

// How much a state looks like an evaluation run: greedy decoding (temperature 0 on nearly every
// request) over no more distinct prompts than a benchmark holds. An evaluation harness scores
// a model's reasoning this way (an 8-shot chain-of-thought GSM8K run: 1,319 prompts, each once,
// at temperature 0, in one sitting), and re-running a sweep at temperature 0 returns the answers
// already taken. A harvest of reasoning for training samples several traces at a temperature,
// or asks a reasoning model (which takes no temperature), or goes on beyond a benchmark's
// size: the measure fades from kEvalPrompts to kEvalPromptsMax distinct prompts. Its price is
// a greedy harvest of reasoning traces within that size, which other harvest evidence (an
// instruction pool, a data-generation template, extraction parameters) must then carry.
inline constexpr double kEvalPrompts = 3000, kEvalPromptsMax = 15000;
double EvaluationShape(const state::AccountState& s) {
  return Ramp(s.Share(s.temp_zero), 0.8, 0.95) *
         (1.0 - Ramp(s.prompts.Estimate(), kEvalPrompts, kEvalPromptsMax));
}

class CotElicitation final : public Detector {
 public:
  std::string_view name() const override { return "cot_elicitation"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    if (AppAsAWhole(in)) return 0;
    // An end user stands against its host's other end users: what they all send (the app's own
    // step-by-step system prompt, a tutoring app's design) says nothing of one of them; only the
    // end user's excess over them does.
    const double cot = Excess(s.cot, s, in.host ? &in.host->cot : nullptr, in);
    const double fmt_share =
        Excess(s.reasoning_format, s, in.host ? &in.host->reasoning_format : nullptr, in);
    const double x = std::max(Ramp(cot, 0.25, 0.7), 0.7 * Ramp(fmt_share, 0.4, 0.9));
    // Long answers make the harvest worthwhile; short ones (classification) do not.
    const double long_answers = Ramp(s.MeanOutputTokens(), 80, 300);
    return SupportOf(in, s.requests, 15, 60) * x * (0.4 + 0.6 * long_answers) *
           (1.0 - EvaluationShape(s));
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    return fmt::format(
        "{} of {} prompts ask for step-by-step reasoning, {} demand a reasoning/answer format, {} "
        "set reasoning_effort=high; {:.0f} output tokens per answer on average ({} reasoning "
        "tokens in all)",
        Pct(s.Share(s.cot)), s.requests, Pct(s.Share(s.reasoning_format)),
        Pct(s.Share(s.effort_high)), s.MeanOutputTokens(),
        Tokens(static_cast<double>(s.reasoning_tokens)));
  }
};

class TemplateHarvest final : public Detector {
 public:
  std::string_view name() const override { return "template_harvest"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    if (AppAsAWhole(in)) return 0;
    const double tmpl = std::max({s.prefixes.TopNShare(3), s.suffixes.TopNShare(3)});
    const double distinct = s.DistinctPromptRatio();
    const double single_turn = 1.0 - s.Share(s.multi_turn);
    // Generated answers, not labels: a batch job's classifications and extractions stay under
    // 60 tokens; a paragraph (150 tokens) is an answer worth keeping. Summaries and translations
    // can be longer and are told apart by what they are sent (answers_over_asks below).
    const double long_answers = Ramp(s.MeanOutputTokens(), 60, 150);
    // Either fresh prompts each time, or the same ones re-sampled at a sampling temperature (an
    // evaluation sweep re-runs its prompts at temperature 0).
    const double harvest =
        std::max(Ramp(distinct, 0.4, 0.8), Ramp(s.Share(s.temp_sampling), 0.5, 0.9));
    // Answers longer than what varies in the prompts: a data-generation template or a few-shot
    // preamble around a short question. A translation or summarising service returns about as
    // much as it is sent, or less; a fixed preamble sent with every request is not sent anew.
    const double answers_over_asks = Ramp(s.OutputVaryingInputRatio(), 0.5, 1.5);
    // A template is a property of the set of prompts (Sample::kStructural).
    return SupportOf(in, s.requests, 20, 80, Sample::kStructural) * Ramp(tmpl, 0.5, 0.9) * harvest *
           single_turn * long_answers * answers_over_asks * (1.0 - EvaluationShape(s));
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    return fmt::format(
        "{} of {} prompts share their 3 most common template openings/endings; {} of prompts are "
        "distinct; {} single-turn; {:.0f} output tokens per answer on average",
        Pct(std::max(s.prefixes.TopNShare(3), s.suffixes.TopNShare(3))), s.requests,
        Pct(s.DistinctPromptRatio()), Pct(1.0 - s.Share(s.multi_turn)), s.MeanOutputTokens());
  }
};

class DatagenPhrases final : public Detector {
 public:
  std::string_view name() const override { return "datagen_phrases"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    if (AppAsAWhole(in)) return 0;
    // Parallel corpora are sentence- and paragraph-aligned: pairs are harvested from short
    // sources. Whole documents (a thousand prompt tokens and more per request) are a translation
    // business's traffic.
    const double short_sources = 1.0 - Ramp(s.MeanPromptTokens(), 400, 1000);
    const double x = std::max(Ramp(s.Share(s.datagen), 0.2, 0.6),
                              Ramp(s.Share(s.translation), 0.4, 0.8) *
                                  Ramp(s.DistinctPromptRatio(), 0.6, 0.9) * short_sources);
    return SupportOf(in, s.requests, 15, 60) * x;
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    return fmt::format(
        "{} of {} prompts instruct the model to generate training-style data (instructions, "
        "examples, rewrites); {} are translation templates",
        Pct(s.Share(s.datagen)), s.requests, Pct(s.Share(s.translation)));
  }
};

// The purpose said out loud: a standing instruction that the answers go into a training set or a
// student model. Nobody states it in passing (no prompt of the shared human corpora does), so a
// share of it among an account's requests, taken at its 95% lower bound, is evidence with few
// requests. Legitimate users it could hit: a student or researcher collecting a small dataset
// with such a system prompt. It is *intent* evidence (Family::kIntent): it counts in proportion
// to the scale taken or to the concealment beside it, so the student's few dozen task-style
// requests stay below the flag (`StatedPurposeWithoutScaleOrStealthStaysBelowTheFlag`), and its
// weight's floor keeps it below the flag alone even at full scale.
class StatedPurpose final : public Detector {
 public:
  std::string_view name() const override { return "stated_purpose"; }
  Family family() const override { return Family::kIntent; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    if (AppAsAWhole(in)) return 0;
    const double lower = WilsonLower(s.train_purpose, static_cast<double>(s.requests));
    return Support(s.requests, 5, 20) * Ramp(lower, 0.05, 0.25);
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    return fmt::format(
        "{} of {} prompts or system prompts say the answers are collected to train a model "
        "(at least {} at 95% confidence)",
        Pct(s.Share(s.train_purpose)), s.requests,
        Pct(WilsonLower(s.train_purpose, static_cast<double>(s.requests))));
  }
};

class InstructionPool final : public Detector {
 public:
  std::string_view name() const override { return "instruction_pool"; }
  Family family() const override { return Family::kHarvest; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    const double task = s.FirstTurnShare(s.task_style);
    const double personal = s.FirstTurnShare(s.first_person);
    // Conversations that start fresh every time: opening prompts are most of the traffic.
    const double openers = s.Share(s.first_turns);
    // An end user stands against a known population, its host's other end users: a clear
    // excess of task-style openings over theirs settles with a couple of dozen openings what 60
    // settle for an account judged alone.
    const HostBaseline host = Baseline(in);
    const double contrast = host.valid ? Support(s.first_turns, 5, 20) * Ramp(host.z, 3, 5) : 0;
    // An instruction pool is many kinds of task, harvested for answers longer than the
    // instructions (a follow-up's instruction is its new message, not the conversation it
    // resends: OutputInstructionRatio); one wrapper around varying content (translate this
    // document, summarise this ticket), or the few of an app's features (a blog post, a product
    // description, social posts on the topic its user typed), is a template, judged by
    // template_harvest on its three most common openings, and a translation or rewrite service
    // returns about as much as it is sent.
    const double varied = Ramp(1.0 - s.prefixes.TopNShare(3), 0.3, 0.6);
    if (AppAsAWhole(in)) return 0;
    // A person's follow-ups refine an answer (shorter, more formal, now in Python), which is why
    // follow-ups hold the pool down. A scripted client (ScriptedRotation: agent and network drawn
    // afresh for each request) sends its follow-ups from the script as well: a multi-turn harvest
    // asks each task once and follows it up a turn or two, so a third of its requests are openings.
    const double scripted = in.host ? 0.0 : ScriptedRotation(s);
    const double fresh = std::max(Ramp(openers, 0.25, 0.6), scripted * Ramp(openers, 0.15, 0.4));
    // A pool is harvested at a script's pace. At a person's (PersonPaceCap) the sample and the
    // take settle less: people ask for tasks too, and over a week a student's or a developer's
    // few task requests an hour add up to the 60 openings and 40k tokens that settle an account
    // judged alone. A scripted client keeps its support; a cluster is judged as one operator.
    double own = SupportOf(in, s.first_turns, 15, 60);
    if (!in.lent_support && s.members <= 1)
      own = std::min(own, std::max(PersonPaceCap(s), scripted));
    return std::max(own, contrast) * Ramp(task, 0.35, 0.6) * Ramp(0.25 - personal, 0.0, 0.15) *
           Ramp(s.DistinctPromptRatio(), 0.2, 0.6) * fresh *
           Ramp(s.OutputInstructionRatio(), 1.0, 2.5) * varied;
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    const HostBaseline host = Baseline(in);
    std::string versus;
    if (host.valid) {
      versus = fmt::format(
          " against {} of {:.0f} openings of the account's other {} ({:.1f} standard "
          "errors above theirs)",
          Pct(host.share), host.openings, in.host_by_key ? "keys" : "end users", host.z);
    }
    return fmt::format(
        "{} of {} opening prompts are self-contained tasks (\"Generate…\", \"Classify…\", "
        "\"Rewrite…\") as in instruction-tuning sets{}, {} speak of the writer (\"I\", \"my\"); "
        "{} of prompts are distinct; {} of requests open a new conversation; {:.1f} output tokens "
        "per prompt token asked (a follow-up counts its new message); {:.1f} requests per hour "
        "with a request{}",
        Pct(s.FirstTurnShare(s.task_style)), s.first_turns, versus,
        Pct(s.FirstTurnShare(s.first_person)), Pct(s.DistinctPromptRatio()),
        Pct(s.Share(s.first_turns)), s.OutputInstructionRatio(), Pace(s),
        PersonPaceCap(s) < 1 && s.members <= 1 ? " (a person's pace)" : "");
  }

 private:
  // The host's other end users' openings make a baseline from this many: the test below weighs
  // the baseline's own sampling error, so a young host is judged on what it has shown so far.
  static constexpr double kMinHostOpenings = 50;
  // Requests per clock hour with a request: a person reading the answers sends a few to a dozen
  // (in the shared scenarios' people, 3 to 16), a script tens to hundreds. Below 10 an
  // account's own sample and take count up to kPersonPaceSupport, which alone stays below the
  // flag; from 20 in full.
  static constexpr double kPersonPaceSupport = 0.6;
  static double Pace(const state::AccountState& s) {
    return static_cast<double>(s.requests) / std::max<double>(s.active_hours, 1.0);
  }
  static double PersonPaceCap(const state::AccountState& s) {
    return kPersonPaceSupport + (1 - kPersonPaceSupport) * Ramp(Pace(s), 10, 20);
  }
  struct HostBaseline {
    bool valid = false;
    double openings = 0;  // the other end users' opening prompts
    double share = 0;     // their task-style share
    double z = 0;         // two-proportion z-score of this end user's share against theirs
  };
  static HostBaseline Baseline(const DetectorInput& in) {
    HostBaseline b;
    if (!in.host || in.state.first_turns == 0) return b;
    const auto& s = in.state;
    const auto& h = *in.host;
    b.openings = static_cast<double>(h.first_turns) - s.first_turns;
    if (b.openings < kMinHostOpenings) return b;
    b.valid = true;
    b.share = std::max(0.0, static_cast<double>(h.task_style) - s.task_style) / b.openings;
    // Two-proportion test: the baseline is itself a sample, small while the host is young.
    const double n = s.first_turns;
    const double pooled =
        std::clamp((b.share * b.openings + s.task_style) / (b.openings + n), 0.05, 0.95);
    b.z = (s.FirstTurnShare(s.task_style) - std::max(b.share, 0.05)) /
          std::sqrt(pooled * (1 - pooled) * (1 / n + 1 / b.openings));
    return b;
  }
};

class ClientRotation final : public Detector {
 public:
  static constexpr int64_t kSessionGapMinutes = state::kSessionGap / kUsPerMin;
  std::string_view name() const override { return "client_rotation"; }
  Family family() const override { return Family::kConcealment; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    // A cluster naturally has many clients: it rotates when its members each do (linked
    // accounts driven by one script with one list of agents).
    if (s.members > 1) {
      const double rotating = static_cast<double>(s.rotating_members) / s.members;
      return Support(s.requests, 40, 150) * Ramp(s.members, 2, 4) * Ramp(rotating, 0.5, 0.9);
    }
    // An app serving many end users has many clients too; an end user (scored with its host)
    // reaches us through the host's servers, whose networks and client say nothing of it.
    if (s.EndUsers() >= state::kMultiTenantEndUsers || in.host) return 0;
    const double agents = s.Agents();
    const double nets = s.ip_prefix_hll.Estimate();
    const double ua = Ramp(agents, 2.5, 4.5) * Ramp(1.0 - s.agents.TopShare(), 0.3, 0.6);
    const double net = Ramp(nets, 3.5, 7) * Ramp(1.0 - s.ip_prefixes.TopShare(), 0.4, 0.7);
    const double spread = Support(s.requests, 15, 40) * std::max(ua, 0.6 * net) *
                          (0.6 + 0.4 * std::min(ua, net) / std::max({ua, net, 1e-9}));
    return std::max(std::max(spread, Hopping(s)) * (1.0 - SharedByPeople(s)), Reshuffling(s));
  }
  // Rotation seen between consecutive requests, before any spread builds up: requests minutes
  // apart from different ISPs (ASNs), three or more of them. A person keeps one network for a
  // session; a phone alternating between Wi-Fi and a mobile network, or an office balancing two
  // uplinks, shows two ASNs and reaches half strength at most, unless the account also rotates
  // three or more client agents evenly (one device flipping between two networks keeps its
  // client), or its hops cross a border twice from more than one client: a phone's two networks
  // and an office's two uplinks are in one country, and a VPN switched on and off keeps its
  // client. A network change now and then (travel, a VPN switched on) is a small share of the
  // account's session pairs.
  //
  // Where the log has no ASNs, countries stand in for them with the same rule: requests minutes
  // apart from different countries (a border is not crossed between two requests), three or more
  // countries. Pairs with an ASN on both sides are judged by ASN only (AccountState). Without
  // the ASN a cloud's regions look like countries too: a service whose servers in several regions
  // call us (one client build, or relaying named end users) is not judged by country.
  static double Hopping(const state::AccountState& s) {
    const double rotating = s.RotatesAgents(state::kRotationStartAgents) ? 1 : 0;
    const double abroad = s.border_hops >= 2 && s.agent_distinct >= 2 ? 1 : 0;
    const double by_asn = Ramp(s.HopShare(), 0.1, 0.3) * Ramp(s.network_hops, 0, 2) *
                          Ramp(s.Asns() + std::max(rotating, abroad), 1, 3);
    if (s.geo_pairs == 0 || s.agent_distinct < 2 || s.EndUsers() > 0) return by_asn;
    const double geo_share = static_cast<double>(s.geo_hops) / s.geo_pairs;
    const double by_country =
        Ramp(geo_share, 0.1, 0.3) * Ramp(s.geo_hops, 0, 2) * Ramp(s.Countries() + rotating, 1, 3);
    return std::max(by_asn, by_country);
  }
  // The same within one ISP, or without ASNs: a client drawing agent and network independently
  // for each request (ScriptedRotation).
  static double Reshuffling(const state::AccountState& s) { return ScriptedRotation(s); }
  std::string Explain(const DetectorInput& in, const core::NameTable& names) const override {
    const auto& s = in.state;
    if (s.members > 1) {
      return fmt::format(
          "{} of {} linked accounts each rotate 4 or more client user agents with none in 60% "
          "of their requests (together ~{:.0f} agents over {} requests): one script's rotation "
          "list driving several accounts",
          s.rotating_members, s.members, s.Agents(), s.requests);
    }
    std::string hops;
    if (s.network_hops > 0) {
      hops = fmt::format(
          "; {} of {} requests sent within {} minutes of the previous one came from another "
          "network (ASN), {:.0f} ASNs in all",
          s.network_hops, s.session_pairs, kSessionGapMinutes, s.Asns());
      if (s.border_hops > 0) {
        hops += fmt::format(" ({} of these hops crossed a border, from {} client agents)",
                            s.border_hops, s.agent_distinct);
      }
    }
    if (s.geo_hops > 0) {
      hops += fmt::format(
          "; {} of {} requests sent within {} minutes of the previous one with no ASN in the log "
          "came from another country, {:.0f} countries in all",
          s.geo_hops, s.geo_pairs, kSessionGapMinutes, s.Countries());
    }
    if (Reshuffling(s) > 0) {
      hops += fmt::format(
          "; {} of {} requests sent within {} minutes of the previous one changed /24, in {} "
          "combinations of agent and /24 ({} agents, {} /24s){}",
          s.prefix_hops, s.prefix_pairs, kSessionGapMinutes, s.combo_distinct, s.agent_distinct,
          s.prefix_distinct,
          Reshuffling(s) >= 0.5
              ? fmt::format(", a script's draw: its harvest shares count from {} requests, as "
                            "a large take's do",
                            kTakenMinRequests)
              : std::string());
    }
    const double people = SharedByPeople(s);
    if (people > 0) {
      hops += fmt::format(
          "; each agent keeps its own /24s ({} combinations of agent and /24, {} agents, {} /24s), "
          "{:.0f} requests a network: people sharing one key each on an own client and network, "
          "which counts at {} as rotation",
          s.combo_distinct, s.agent_distinct, s.prefix_distinct,
          static_cast<double>(s.requests) /
              std::max(s.ip_prefix_hll.Estimate(), static_cast<double>(s.prefix_distinct)),
          Pct(1.0 - people));
    }
    return fmt::format(
        "{} requests came from ~{:.0f} client user agents (the most common, \"{}\", in {} of "
        "requests) and ~{:.0f} networks (/24 or /48; the most common in {}){}: rotating agents or "
        "networks like a proxy pool",
        s.requests, s.Agents(), names.Get(core::NameKind::kUserAgent, s.agents.Top().key),
        Pct(s.agents.TopShare()), s.ip_prefix_hll.Estimate(), Pct(s.ip_prefixes.TopShare()), hops);
  }
};

class CoordinatedAccounts final : public Detector {
 public:
  std::string_view name() const override { return "coordinated_accounts"; }
  Family family() const override { return Family::kCoordination; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    return Support(s.requests, 20, 60) * ActingAsOne(s) * Ramp(s.OutputInputRatio(), 0.5, 1.5);
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    return fmt::format(
        "{} linked accounts, {} of them new (first active within days of sign-up, or, with no "
        "sign-up date, first seen hours into the input), push {} of their {} prompts through one "
        "template; together {} output tokens/day ({} in all), {:.0f} per member",
        s.members, s.fresh_members, Pct(s.prefixes.TopShare()), s.requests,
        Tokens(s.OutputPerDay() * s.members), Tokens(static_cast<double>(s.output_tokens)),
        s.OutputPerDay());
  }
};

class AroundTheClock final : public Detector {
 public:
  std::string_view name() const override { return "around_the_clock"; }
  Family family() const override { return Family::kPace; }
  double Strength(const DetectorInput& in) const override {
    const auto& s = in.state;
    const double span_days = static_cast<double>(s.last_ts - s.first_ts) / kUsPerDay;
    return Support(s.requests, 50, 200) * Ramp(span_days, 0.75, 2.0) *
           Ramp(s.DutyCycle(), 0.5, 0.85);
  }
  std::string Explain(const DetectorInput& in, const core::NameTable&) const override {
    const auto& s = in.state;
    int quiet = 0;
    for (auto h : s.hour_hist) quiet += h == 0;
    return fmt::format(
        "active in {} of the hours between its first and last request over {:.1f} days ({} "
        "hours of the day never used): no sleep, no working day",
        Pct(s.DutyCycle()), static_cast<double>(s.last_ts - s.first_ts) / kUsPerDay, quiet);
  }
};

}  // namespace

std::vector<std::unique_ptr<Detector>> MakeBuiltinDetectors() {
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(std::make_unique<OutputVolume>());
  d.push_back(std::make_unique<ExtractionParams>());
  d.push_back(std::make_unique<CotElicitation>());
  d.push_back(std::make_unique<TemplateHarvest>());
  d.push_back(std::make_unique<DatagenPhrases>());
  d.push_back(std::make_unique<InstructionPool>());
  d.push_back(std::make_unique<ClientRotation>());
  d.push_back(std::make_unique<AroundTheClock>());
  d.push_back(std::make_unique<CoordinatedAccounts>());
  d.push_back(std::make_unique<StatedPurpose>());
  return d;
}

}  // namespace dg::detectors
