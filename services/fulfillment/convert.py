"""Translation between catalogue values and the protobuf messages of crs.fulfillment.v1."""

from __future__ import annotations

import json

from crs.common.v1 import money_pb2
from crs.fulfillment.v1 import fulfillment_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.fulfillment.catalogue import Order, Product, ProductCount, PurchaseHistory


def timestamp(when) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def product_to_pb(product: Product) -> fulfillment_pb2.Product:
    return fulfillment_pb2.Product(
        sku=product.sku, upc=product.upc, name=product.name, category=product.category, size=product.size
    )


def order_to_pb(order: Order) -> fulfillment_pb2.Order:
    return fulfillment_pb2.Order(
        id=order.id,
        consumer_id=order.consumer_id,
        placed_at=timestamp(order.placed_at),
        channel=order.channel,
        status=order.status,
        lines=[
            fulfillment_pb2.OrderLine(
                product=product_to_pb(line.product),
                quantity=line.quantity,
                unit_price=money_pb2.Money(currency=order.currency, amount_minor=line.unit_price_minor),
            )
            for line in order.lines
        ],
        total=money_pb2.Money(currency=order.currency, amount_minor=order.total_minor),
    )


def count_to_pb(count: ProductCount) -> fulfillment_pb2.ProductCount:
    return fulfillment_pb2.ProductCount(
        product=product_to_pb(count.product),
        orders=count.orders,
        units=count.units,
        last_bought_at=timestamp(count.last_bought_at),
    )


def history_to_pb(history: PurchaseHistory) -> fulfillment_pb2.PurchaseHistory:
    return fulfillment_pb2.PurchaseHistory(
        consumer_id=history.consumer_id,
        orders=[order_to_pb(o) for o in history.orders],
        top_products=[count_to_pb(c) for c in history.top_products],
    )


def money(currency: str, amount_minor: int) -> money_pb2.Money:
    return money_pb2.Money(currency=currency, amount_minor=amount_minor)


def shipment_to_pb(shipment) -> fulfillment_pb2.Shipment:
    return fulfillment_pb2.Shipment(
        fulfillment_id=shipment.fulfillment_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
        updated_at=timestamp(shipment.updated_at),
        location_id=shipment.location_id,
    )


def fulfillment_to_pb(f) -> fulfillment_pb2.FulfillmentRequest:
    message = fulfillment_pb2.FulfillmentRequest(
        id=f.id,
        case_id=f.case_id,
        consumer_id=f.consumer_id,
        kind=f.kind,
        state=f.state,
        stage=f.stage,
        value=money(f.currency, f.value_minor),
        sku=f.sku,
        quantity=f.quantity,
        template=f.template,
        requested_by=f.requested_by,
        decided_by=f.decided_by,
        reason=f.reason,
        created_at=timestamp(f.created_at),
        updated_at=timestamp(f.updated_at),
        coupon_code=f.coupon_code,
        delivery=f.delivery,
        history=[
            fulfillment_pb2.FulfillmentStep(
                occurred_at=timestamp(h.occurred_at), state=h.state, stage=h.stage, actor=h.actor, note=h.note
            )
            for h in f.history
        ],
    )
    if f.escalated_at is not None:
        message.escalated_at.CopyFrom(timestamp(f.escalated_at))
    if f.shipment is not None:
        message.shipment.CopyFrom(shipment_to_pb(f.shipment))
    return message


def coupon_to_pb(coupon, status: str) -> fulfillment_pb2.CouponStatus:
    message = fulfillment_pb2.CouponStatus(
        code=coupon.code,
        status=status,
        value=money(coupon.currency, coupon.value_minor),
        skus=list(coupon.skus),
        expires_at=timestamp(coupon.expires_at),
    )
    if coupon.redeemed_at is not None:
        message.redeemed_at.CopyFrom(timestamp(coupon.redeemed_at))
    return message


def location_from_pb(loc) -> tuple:
    # Protobuf has no "unset" double: a location imported without coordinates arrives at 0, 0, which is
    # stored as unknown rather than as a place in the Gulf of Guinea that where-to-buy would rank.
    placed = loc.latitude != 0 or loc.longitude != 0
    return (
        loc.id,
        loc.name,
        loc.kind,
        loc.country.upper(),
        loc.region,
        loc.postcode,
        loc.latitude if placed else None,
        loc.longitude if placed else None,
        [c.upper() for c in loc.serves],
    )


def location_to_pb(columns) -> fulfillment_pb2.Location:
    lid, name, kind, country, region, postcode, lat, lon, serves = columns
    return fulfillment_pb2.Location(
        id=lid,
        name=name,
        kind=kind,
        country=country,
        region=region,
        postcode=postcode,
        latitude=lat,
        longitude=lon,
        serves=list(serves),
    )


def where_to_buy_to_pb(answer) -> fulfillment_pb2.WhereToBuyResponse:
    q = answer.query
    return fulfillment_pb2.WhereToBuyResponse(
        sku=q.sku,
        postcode=q.postcode,
        country=q.country,
        latitude=answer.latitude,
        longitude=answer.longitude,
        stores=[
            fulfillment_pb2.StoreNearby(
                location=location_to_pb(s.location),
                available=s.available,
                distance_km=round(s.distance_km, 2),
            )
            for s in answer.stores
        ],
    )


def stock_to_pb(sku: str, rows) -> fulfillment_pb2.ProductStock:
    levels = []
    for row in rows:
        on_hand, reserved, reorder = row[9:]
        levels.append(
            fulfillment_pb2.StockLevel(
                location=location_to_pb(row[:9]),
                on_hand=on_hand,
                reserved=reserved,
                available=on_hand - reserved,
                reorder_point=reorder,
                below_reorder_point=on_hand - reserved < reorder,
            )
        )
    return fulfillment_pb2.ProductStock(sku=sku, levels=levels, available=sum(lv.available for lv in levels))


def restock_prompt_to_pb(prompt) -> fulfillment_pb2.RestockPrompt:
    message = fulfillment_pb2.RestockPrompt(
        id=prompt.id,
        sku=prompt.sku,
        country=prompt.country,
        region=prompt.region,
        reasons=list(prompt.reasons),
        units_sold=prompt.units_sold,
        velocity_per_day=round(prompt.velocity_per_day, 3),
        available=prompt.available,
        misses=prompt.misses,
        usual_misses=round(prompt.usual_misses, 3),
        window_days=prompt.window_days,
        cover_threshold_days=prompt.cover_threshold_days,
        raised_at=timestamp(prompt.raised_at),
        evaluated_at=timestamp(prompt.evaluated_at),
    )
    if prompt.days_of_cover is not None:
        message.days_of_cover = round(prompt.days_of_cover, 2)
    if prompt.cleared_at is not None:
        message.cleared_at.CopyFrom(timestamp(prompt.cleared_at))
    return message


def restock_policy_to_pb(
    policy, updated_by: str, updated_at, overrides=(), changes=()
) -> fulfillment_pb2.RestockPolicy:
    return fulfillment_pb2.RestockPolicy(
        cover_days=policy.cover_days,
        window_days=policy.window_days,
        baseline_windows=policy.baseline_windows,
        miss_factor=policy.miss_factor,
        min_misses=policy.min_misses,
        updated_by=updated_by,
        updated_at=timestamp(updated_at),
        cover_thresholds=[
            fulfillment_pb2.CoverThreshold(
                sku=t.sku, country=t.country, region=t.region, cover_days=t.cover_days
            )
            for t in overrides
        ],
        changes=[threshold_change_to_pb(c) for c in changes],
    )


def _json_or_empty(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True)


def threshold_change_to_pb(change) -> fulfillment_pb2.ThresholdChange:
    sku, country, region = change.scope
    return fulfillment_pb2.ThresholdChange(
        sku=sku,
        country=country,
        region=region,
        changed_by=change.changed_by,
        changed_at=timestamp(change.changed_at),
        before_json=_json_or_empty(change.before),
        after_json=_json_or_empty(change.after),
    )
