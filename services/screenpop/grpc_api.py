"""Screenpop's gRPC API: the current pop of an extension, for the console's pages and sockets."""

from __future__ import annotations

import json

import grpc
from crs.screenpop.v1 import screenpop_pb2, screenpop_pb2_grpc

from services.runtime.grpcio import Servicer
from services.screenpop.routing import valid_extension
from services.screenpop.store import Store


class ScreenpopApi(screenpop_pb2_grpc.ScreenpopServicer):
    def __init__(self, store: Store):
        self.store = store

    async def GetCurrentPop(self, request, context: grpc.aio.ServicerContext):
        if not valid_extension(request.extension):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "extension: 1-32 of 0-9, A-Z, a-z, '_', '+' or '-'"
            )
        pop = await self.store.current_pop(request.extension)
        if pop is None:
            return screenpop_pb2.CurrentPop(found=False)
        return screenpop_pb2.CurrentPop(found=True, pop_json=json.dumps(pop), state=pop["state"])


def servicer(store: Store) -> Servicer:
    return Servicer(
        ScreenpopApi(store),
        screenpop_pb2_grpc.add_ScreenpopServicer_to_server,
        screenpop_pb2.DESCRIPTOR.services_by_name["Screenpop"].full_name,
    )
