// The analyst UI's server side: the action store (durable, audited, overrides published), the
// decider applying overrides (most specific first), web auth (cookies, forms, sessions, constant-
// time compare) and the action body parser.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/hash.h"
#include "core/event.h"
#include "serve/action_body.h"
#include "serve/actions.h"
#include "serve/decider.h"
#include "serve/web_auth.h"
#include "testutil/testutil.h"

namespace dg::serve {
namespace {

ActionRow Act(TargetKind kind, std::string target, std::string action, std::string scope = {}) {
  ActionRow r;
  r.who = "ana";
  r.kind = kind;
  r.scope = std::move(scope);
  r.target = std::move(target);
  r.action = std::move(action);
  r.note = "because";
  return r;
}

TEST(ActionStore, RecordsAuditsAndSurvivesReopen) {
  auto dir = testutil::TempDir("actions");
  const std::string db = (dir / "actions.db").string();
  {
    ActionStore s;
    std::string err;
    ASSERT_TRUE(s.Open(db, &err)) << err;
    ActionRow stored;
    ASSERT_TRUE(s.Record(Act(TargetKind::kAccount, "acct_1", "block"), 100, &stored, &err)) << err;
    EXPECT_EQ(stored.id, 1);
    EXPECT_EQ(s.overrides()->Find(OverrideKey(TargetKind::kAccount, {}, "acct_1")),
              Override::kBlock);
    ASSERT_TRUE(s.Record(Act(TargetKind::kAccount, "acct_1", "confirm"), 200, &stored, &err));
    ASSERT_TRUE(s.Record(Act(TargetKind::kCluster, "C-acct_9", "allow"), 300, &stored, &err));
    // Refused: unknown action, a key without its account, an oversized note.
    EXPECT_FALSE(s.Record(Act(TargetKind::kAccount, "acct_1", "nuke"), 400, &stored, &err));
    EXPECT_FALSE(s.Record(Act(TargetKind::kKey, "key_1", "block"), 400, &stored, &err));
    auto big = Act(TargetKind::kAccount, "acct_1", "block");
    big.note.assign(kMaxNoteBytes + 1, 'x');
    EXPECT_FALSE(s.Record(big, 400, &stored, &err));
    EXPECT_EQ(s.Audit(0, 100).size(), 3u);
  }
  // Reopened (as after a restart): state, overrides and the trail are back.
  ActionStore s;
  std::string err;
  ASSERT_TRUE(s.Open(db, &err)) << err;
  const auto st = s.State(TargetKind::kAccount, {}, "acct_1");
  EXPECT_EQ(st.status, "confirmed");
  EXPECT_EQ(st.override_, Override::kBlock);
  EXPECT_EQ(s.overrides()->Find(ClusterOverrideKey(Hash64("acct_9", core::kHashAccount))),
            Override::kAllow);
  ActionRow stored;
  ASSERT_TRUE(s.Record(Act(TargetKind::kAccount, "acct_1", "clear"), 500, &stored, &err));
  EXPECT_EQ(s.overrides()->Find(OverrideKey(TargetKind::kAccount, {}, "acct_1")), Override::kNone);
  const auto trail = s.Audit(0, 100);
  ASSERT_EQ(trail.size(), 4u);
  EXPECT_EQ(trail[0].action, "block");
  EXPECT_EQ(trail[3].action, "clear");
  EXPECT_EQ(trail[3].who, "ana");
  EXPECT_EQ(trail[3].note, "because");
  ActionRow only = Act(TargetKind::kCluster, "C-acct_9", "");
  EXPECT_EQ(s.Audit(0, 100, &only).size(), 1u);
  EXPECT_NE(AuditJson(trail).find("\"action\":\"clear\""), std::string::npos);
}

TEST(Decider, AnalystOverridesComeFirstMostSpecificWins) {
  auto dir = testutil::TempDir("overrides");
  ActionStore actions;
  std::string err;
  ASSERT_TRUE(actions.Open((dir / "a.db").string(), &err)) << err;
  Policy p;
  p.allow_accounts.insert("vip");
  VerdictView view;
  AccountVerdict v;
  v.cluster_root = Hash64("root", core::kHashAccount);
  view.Update(
      {{Hash64("member", core::kHashAccount), v}, {Hash64("other", core::kHashAccount), v}});
  FixedClock clock(1'000'000'000);
  Decider d(p, view, {}, clock);
  d.SetOverrides(&actions);
  DecisionInput in;
  in.account_id = "member";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  ActionRow stored;
  ASSERT_TRUE(actions.Record(Act(TargetKind::kCluster, "C-root", "block"), 1, &stored, &err));
  auto blocked = d.Decide(in, false, true);
  EXPECT_EQ(blocked.action, Action::kBlock);
  ASSERT_FALSE(blocked.reasons.empty());
  EXPECT_EQ(blocked.reasons[0], "analyst_block:cluster");
  // An account allowed inside a blocked cluster passes (more specific).
  ASSERT_TRUE(actions.Record(Act(TargetKind::kAccount, "member", "allow"), 2, &stored, &err));
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  in.account_id = "other";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kBlock);
  // A key blocked within its account; the account's other keys pass.
  in.account_id = "member";
  in.api_key_id = "key_bad";
  ASSERT_TRUE(
      actions.Record(Act(TargetKind::kKey, "key_bad", "block", "member"), 3, &stored, &err));
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kBlock);
  in.api_key_id = "key_good";
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kAllow);
  // An analyst block beats the configured allow list; clearing it restores the list.
  in.api_key_id = {};
  in.account_id = "vip";
  ASSERT_TRUE(actions.Record(Act(TargetKind::kAccount, "vip", "block"), 4, &stored, &err));
  EXPECT_EQ(d.Decide(in, false, true).action, Action::kBlock);
  ASSERT_TRUE(actions.Record(Act(TargetKind::kAccount, "vip", "clear"), 5, &stored, &err));
  const auto cleared = d.Decide(in, false, true);
  EXPECT_EQ(cleared.action, Action::kAllow);
  EXPECT_EQ(cleared.reasons.at(0), "allowlisted");
}

TEST(WebAuth, ConstantTimeEqualsAndCookies) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secreT", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret1", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  EXPECT_EQ(CookieValue("a=1; dg_session=abc; b=2", "dg_session").value_or(""), "abc");
  EXPECT_EQ(CookieValue("dg_session=\"q\"", "dg_session").value_or(""), "q");
  EXPECT_FALSE(CookieValue("xdg_session=abc; dg_session", "dg_session").has_value());
  EXPECT_FALSE(CookieValue("", "dg_session").has_value());
}

TEST(WebAuth, FormParsing) {
  auto f = ParseForm("user=Ana+Lyst&token=a%26b%3Dc&empty=&flag");
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[0].second, "Ana Lyst");
  EXPECT_EQ((*f)[1].second, "a&b=c");
  EXPECT_EQ((*f)[2].second, "");
  EXPECT_EQ((*f)[3].first, "flag");
  EXPECT_FALSE(ParseForm("user=%zz").has_value());
  EXPECT_FALSE(ParseForm("a=1&b=2&c=3", 2).has_value());
}

TEST(WebAuth, SessionsExpireAndAreUnguessable) {
  class StepClock final : public Clock {
   public:
    TimeUs Now() const override { return t; }
    TimeUs t = 1'000'000;
  } clock;
  uint8_t counter = 0;
  SessionStore store(
      clock,
      [&](uint8_t* out, size_t n) {
        for (size_t i = 0; i < n; ++i) out[i] = counter++;
      },
      /*ttl=*/10 * kUsPerSec, /*max_sessions=*/2);
  const auto a = store.Create("ana");
  EXPECT_EQ(a.id.size(), 64u);
  EXPECT_NE(a.id, a.csrf);
  ASSERT_TRUE(store.Find(a.id).has_value());
  EXPECT_EQ(store.Find(a.id)->user, "ana");
  EXPECT_FALSE(store.Find(a.id.substr(1)).has_value());
  clock.t += 1;
  store.Create("b");
  clock.t += 1;
  store.Create("c");  // over the cap: the oldest goes
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Find(a.id).has_value());
  const auto d = store.Create("d");
  clock.t += 11 * kUsPerSec;
  EXPECT_FALSE(store.Find(d.id).has_value());
  const std::string cookie = SessionCookie(d.id, 10 * kUsPerSec);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
}

TEST(ActionBody, ParsesAndNamesBadFields) {
  ActionRow r;
  EXPECT_FALSE(ParseActionBody(
      R"({"kind":"end_user","scope":"acct","target":"u<1>","action":"block","note":"n","x":[1]})",
      &r));
  EXPECT_EQ(r.kind, TargetKind::kEndUser);
  EXPECT_EQ(r.target, "u<1>");
  EXPECT_EQ(r.scope, "acct");
  auto e = ParseActionBody(R"({"kind":"planet","target":"x","action":"block"})", &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "kind");
  e = ParseActionBody(R"({"kind":"account","target":5,"action":"block"})", &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "target");
  EXPECT_TRUE(ParseActionBody(R"({"kind":"account","target":"a","action":"block"} junk)", &r));
  EXPECT_TRUE(ParseActionBody("", &r));
  EXPECT_TRUE(ParseActionBody(R"({"kind":"account","action":"block"})", &r));
}

}  // namespace
}  // namespace dg::serve
