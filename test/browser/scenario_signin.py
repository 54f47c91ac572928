"""Signing in and out: the role's name in the header, the gateway's own message for a wrong password, the form
again after signing out, and no horizontal scroll at a phone's width."""
import json
import urllib.error
import urllib.request

from harness import PHONE


def gateway_message_for_wrong_password(ctx, role):
    """The message the gateway answers a wrong password with, asked over the API itself: the UI must show that."""
    request = urllib.request.Request(ctx.base_url + "/api/auth/login", method="POST",
                                     data=json.dumps({"role": role, "password": "not-the-password"}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=15)
    except urllib.error.HTTPError as answer:
        ctx.check(answer.code == 401, "the API answered a wrong password with %d, not 401" % answer.code)
        return json.loads(answer.read())["error"]["message"]
    raise AssertionError("the API let a wrong password sign in")


def scenario_signin(ctx):
    role, _ = ctx.role(0)
    ctx.sign_in()
    whoami = ctx.wait_testid("whoami")
    ctx.check(whoami.text.strip() == role, "whoami reads %r, not %r" % (whoami.text, role))


def scenario_signin_wrong_password(ctx):
    role, _ = ctx.role(0)
    expected = gateway_message_for_wrong_password(ctx, role)
    ctx.sign_in(role, "not-the-password", expect_success=False)
    error = ctx.wait_text("signin-error", expected)
    ctx.check(error.get_attribute("role") == "alert", "signin-error is not role=alert")
    ctx.check(not ctx.find("whoami"), "a wrong password still shows whoami")


def scenario_signout(ctx):
    ctx.sign_in()
    ctx.sign_out()
    ctx.check(not any(e.is_displayed() for e in ctx.find("whoami")), "whoami is still shown after signing out")
    # Signed out for the gateway too, not only hidden: a reload shows the form again.
    ctx.open("/")
    ctx.wait_testid("signin-form")


def scenario_phone_width(ctx):
    ctx.set_viewport(*PHONE)
    ctx.open("/")
    ctx.wait_testid("signin-form")
    overflow = ctx.horizontal_overflow()
    ctx.check(overflow == 0, "the sign-in form at %dx%d scrolls sideways by %d px" % (PHONE + (overflow,)))
    ctx.sign_in()
    overflow = ctx.horizontal_overflow()
    ctx.check(overflow == 0, "the signed-in page at %dx%d scrolls sideways by %d px" % (PHONE + (overflow,)))
