"""`crs coupon check|redeem CODE`: the clearing house's view of a coupon.

A person acts: checking is an agent's by default, redeeming a supervisor's (`--role` to say otherwise).
"""

from __future__ import annotations

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.cli.fulfilment import call, common_options, guarded, show_message


def _line(status: pb.CouponStatus) -> str:
    amount = status.value.amount_minor
    return f"{status.code}  {status.status}  {amount} {status.value.currency} (minor units)"


def check(args) -> int:
    found = call(args, "CheckCoupon", pb.CouponRequest(code=args.code), "agent")
    show_message(args, found, _line(found))
    return 0


def redeem(args) -> int:
    done = call(
        args,
        "RedeemCoupon",
        pb.CouponRequest(code=args.code, redemption_reference=args.reference or ""),
        "supervisor",
    )
    show_message(args, done, _line(done))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("coupon", help="check or redeem a coupon code")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    checking = actions.add_parser("check", help="is this code valid, redeemed or expired?")
    checking.add_argument("code")
    common_options(checking)
    checking.set_defaults(func=guarded(check))
    redeeming = actions.add_parser("redeem", help="redeem a code, exactly once")
    redeeming.add_argument("code")
    redeeming.add_argument("--reference", help="the clearing house's reference; a retry with it is safe")
    common_options(redeeming)
    redeeming.set_defaults(func=guarded(redeem))
