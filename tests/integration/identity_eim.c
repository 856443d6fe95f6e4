/* EIM users (ACC-4) against the emulator when things go wrong: cloud faults (503 on CreateUser)
 * are retried until the user exists; identity killed with SIGKILL in the middle of a cloud call
 * (latency injected on CreateUser) converges after a restart; drift made behind identity's back
 * (the group deleted, a user deleted) is repaired by the reconciliation, which reports it
 * (event identity.eim.repaired). Fault rules are global to the emulator: each test clears them. */
#include "identity_support.h"

TestSuite(identity_eim, .fini = idt_fini);

static const char *const eim_env[] = {"MKT_EIM_LEASE_S=3", "MKT_EIM_BACKOFF_MAX_S=1", "MKT_EIM_RECONCILE_S=3600",
                                      NULL};

struct member_wait {
    const struct th_cloudsim_account *cloud;
    char name[64];
};

static bool is_member(void *arg) {
    struct member_wait *w = arg;
    struct idt_eim_view v = idt_eim_view(w->cloud);
    return v.group && v.group_has_policy && idt_has_name(v.names, w->name) && idt_has_name(v.members, w->name);
}

struct sql_wait {
    const struct idt *t;
    char where[400];
    long at_least;
};

static bool sql_reached(void *arg) {
    struct sql_wait *w = arg;
    return idt_count(w->t, w->where) >= w->at_least;
}

/* A new account (no need to log it in): returns its id. */
static void new_account(struct idt *t, struct idt_who *admin, const char *who, char id_out[40]) {
    char email[128], *roles[] = {"user"};
    snprintf(email, sizeof email, "%s-%s@example.com", who, t->run);
    Mkt__Identity__CreateAccount req = MKT__IDENTITY__CREATE_ACCOUNT__INIT;
    req.name = (char *)who;
    req.email = email;
    req.roles = roles;
    req.n_roles = 1;
    ProtobufCMessage *rep = NULL;
    struct err e = {0};
    cr_assert_eq(idt_call(t, "create_account", idt_actor(admin), &req.base, &mkt__identity__account__descriptor, &rep,
                          &e), ERR_OK, "%s", e.msg);
    snprintf(id_out, 40, "%s", ((Mkt__Identity__Account *)rep)->id);
    protobuf_c_message_free_unpacked(rep, NULL);
}

static void signed_up(struct idt *t, struct th_cloudsim_account *cloud, struct idt_who *admin) {
    idt_signup(t, "eim", "buyer", cloud, admin);
    struct member_wait w = {.cloud = cloud};
    idt_eim_name(admin->account_id, w.name);
    cr_assert(th_eventually(is_member, &w, IDT_WAIT_MS), "the admin's EIM user is not ready");
}

Test(identity_eim, cloud_faults_are_retried_until_the_user_exists, .timeout = 120) {
    struct idt t;
    idt_start(&t, eim_env, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin;
    signed_up(&t, &cloud, &admin);

    /* 5 refusals: the client tries twice per attempt (MKT_CLOUD_MAX_TRIES=2), so the job fails
     * twice before its third attempt gets through. */
    th_cloudsim_faults("{\"operations\":[\"CreateUser\"],\"status\":503,\"count\":5}");
    char id[40];
    new_account(&t, &admin, "faulty", id);
    struct sql_wait sw = {.t = &t, .at_least = 1};
    snprintf(sw.where, sizeof sw.where,
             "eim_users WHERE account_id = '%s' AND attempts >= 2 AND last_error LIKE '%%CreateUser%%'", id);
    cr_expect(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "no failed attempt recorded");
    struct member_wait w = {.cloud = &cloud};
    idt_eim_name(id, w.name);
    cr_expect(th_eventually(is_member, &w, IDT_WAIT_MS), "the EIM user never appeared after the faults");
    snprintf(sw.where, sizeof sw.where, "eim_users WHERE account_id = '%s' AND state = 'ready' AND last_error IS NULL",
             id);
    cr_expect(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "the job is not marked ready");
    th_cloudsim_faults(NULL);
    idt_who_cleanup(&admin);
    idt_stop(&t);
}

Test(identity_eim, kill9_between_cloud_calls_then_restart_converges, .timeout = 120) {
    struct idt t;
    idt_start(&t, eim_env, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin;
    signed_up(&t, &cloud, &admin);

    /* CreateUser answers after 2 s; identity dies while waiting, before AddUserToUserGroup. */
    th_cloudsim_faults("{\"operations\":[\"CreateUser\"],\"latency_ms\":2000,\"count\":1}");
    char id[40];
    new_account(&t, &admin, "killed", id);
    struct sql_wait sw = {.t = &t, .at_least = 1};
    snprintf(sw.where, sizeof sw.where, "eim_users WHERE account_id = '%s' AND attempts = 1 AND state = 'pending'", id);
    cr_assert(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "the job was never claimed");
    th_sleep_ms(500); /* inside the CreateUser call */
    th_kill9(&t.identity);
    th_sleep_ms(2000); /* the emulator finishes the CreateUser nobody waits for any more */
    struct member_wait w = {.cloud = &cloud};
    idt_eim_name(id, w.name);
    struct idt_eim_view v = idt_eim_view(&cloud);
    cr_expect(idt_has_name(v.names, w.name) && !idt_has_name(v.members, w.name),
              "the kill did not land between CreateUser and AddUserToUserGroup (names: %s; members: %s)", v.names,
              v.members);
    th_cloudsim_faults(NULL);

    /* Restart: the lease (3 s) runs out, the job runs again, finds the user and completes. */
    idt_start_identity(&t);
    cr_expect(th_eventually(is_member, &w, IDT_WAIT_MS), "no convergence after the restart");
    snprintf(sw.where, sizeof sw.where, "eim_users WHERE account_id = '%s' AND state = 'ready'", id);
    cr_expect(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "the job is not marked ready after the restart");
    v = idt_eim_view(&cloud);
    cr_expect_eq(v.users, 3, "duplicate or missing EIM users: %s", v.names);
    idt_who_cleanup(&admin);
    idt_stop(&t);
}

Test(identity_eim, drift_is_repaired_by_reconciliation, .timeout = 120) {
    static const char *const env[] = {"MKT_EIM_LEASE_S=3", "MKT_EIM_BACKOFF_MAX_S=1", "MKT_EIM_RECONCILE_S=2", NULL};
    struct idt t;
    idt_start(&t, env, true);
    struct th_cloudsim_account cloud;
    struct idt_who admin;
    signed_up(&t, &cloud, &admin);
    char admin_eim[64];
    idt_eim_name(admin.account_id, admin_eim);

    /* Behind identity's back, with the account's root key: the group goes (members and policy
     * link with it) and the admin's EIM user too. */
    struct cloud *root = th_cloudsim_client(&cloud);
    struct err e = {0};
    cr_assert_eq(cloud_delete_user_group(root, "marketplace_group", NULL, true, &e), ERR_OK, "%s", e.msg);
    cr_assert_eq(cloud_delete_user(root, admin_eim, &e), ERR_OK, "%s", e.msg);
    cloud_free(root);

    /* The next reconciliation (every 2 s) puts everything back and says what it fixed. */
    struct member_wait w = {.cloud = &cloud};
    snprintf(w.name, sizeof w.name, "%s", admin_eim);
    cr_expect(th_eventually(is_member, &w, IDT_WAIT_MS), "the drift was not repaired");
    snprintf(w.name, sizeof w.name, "marketplace_platform");
    cr_expect(is_member(&w), "the platform user is not back in the group");
    /* (A pass may run between the two deletions: then two events name the fixes.) */
    struct sql_wait sw = {.t = &t, .at_least = 1};
    snprintf(sw.where, sizeof sw.where,
             "outbox WHERE subject = 'mkt.evt.identity.eim.repaired' AND position('group marketplace_group re-created' "
             "in encode(data, 'escape')) > 0");
    cr_expect(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "no eim.repaired event naming the group");
    snprintf(sw.where, sizeof sw.where,
             "outbox WHERE subject = 'mkt.evt.identity.eim.repaired' AND position('%s re-created' in encode(data, "
             "'escape')) > 0",
             admin_eim);
    cr_expect(th_eventually(sql_reached, &sw, IDT_WAIT_MS), "no eim.repaired event naming the user");
    cr_expect_eq(idt_count(&t, "outscale_accounts WHERE eim_state = 'ready' AND reconciled_at IS NOT NULL"), 1);
    /* A pass over a healthy account repairs nothing more. */
    long repaired = idt_count(&t, "outbox WHERE subject = 'mkt.evt.identity.eim.repaired'");
    th_sleep_ms(4500);
    cr_expect_eq(idt_count(&t, "outbox WHERE subject = 'mkt.evt.identity.eim.repaired'"), repaired,
                 "reconciliation keeps 'repairing' a healthy account");
    idt_who_cleanup(&admin);
    idt_stop(&t);
}
