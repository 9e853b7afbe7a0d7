"""Likeness protection in GraphQL: the claim (a phrase, then the selfie video) and the
console (where the viewer's face appears in other users' elements, and their decisions).
Everything is the viewer's: another user's likeness, match or grant is never reachable."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from accounts.graphql.permissions import IsAuthenticated, current_user, require_user
from elements import models
from elements.graphql.hooks import element_use_counts
from elements.graphql.types import ElementStatus
from elements.likeness import services
from elements.media_urls import media_url
from elementsite.graphql_columns import column
from elementsite.graphql_enums import choices_enum
from elementsite.ids import node_pk
from elementsite.relay import ListConnection, PkNodeID

choices_enum(models.LikenessStatus, description="Where a likeness claim stands.")
choices_enum(models.LikenessMatchState, description="The likeness owner's decision on an element.")
LikenessStatus = models.LikenessStatus
LikenessMatchState = models.LikenessMatchState


def _viewer_id(info: Info) -> int | None:
    user = current_user(info)
    return user.pk if user is not None else None


@strawberry_django.type(models.LikenessChallenge, name="LikenessChallenge")
class LikenessChallengeNode(PkNodeID, relay.Node):
    """A phrase to say in the selfie video, once, before it expires."""

    phrase: str = column(description="The words to say, in this order.")
    expires_at: datetime.datetime = column(description="Upload the video before this.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer_id(info)
        return queryset.none() if viewer is None else queryset.filter(user_id=viewer)


@strawberry_django.type(models.Likeness, name="Likeness")
class LikenessNode(PkNodeID, relay.Node):
    """The viewer's claimed likeness: only its state; its face descriptors never leave."""

    status: LikenessStatus = column(
        description="PROCESSING (the video is being checked), ACTIVE (protecting you), "
        "FAILED (see failureCode) or REVIEW (the face matches another user's likeness: staff "
        "decide)."
    )
    progress: int = column(description="The check's progress, 0–100.")
    failure_code: str = column(
        description="LIKENESS_DURATION, LIKENESS_NO_SPEECH, LIKENESS_PHRASE_MISMATCH, "
        "LIKENESS_MULTIPLE_FACES, LIKENESS_NO_FACE, LIKENESS_STILL_IMAGE, "
        "LIKENESS_ALREADY_CLAIMED (review) or LIKENESS_CHECK_FAILED; empty otherwise."
    )
    failure_message: str = column(description="What went wrong, for you; empty if none.")
    phrase: str = column(description="The phrase said in the video.")
    created_at: datetime.datetime = column(description="When it was claimed.")
    updated_at: datetime.datetime = column(description="When its state last changed.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer_id(info)
        return queryset.none() if viewer is None else queryset.filter(owner_id=viewer)


@strawberry.type(description="Where an element went, counted (the jobs are its owner's).")
class LikenessUsage:
    jobs: int = strawberry.field(description="Generation jobs that used the element.")
    shared_works: int = strawberry.field(description="Works shared from those jobs.")
    recreations: int = strawberry.field(description="Recreations of those works, by anyone.")


_MAIN_IMAGES = Prefetch(
    "element__images",
    queryset=models.ReferenceImage.objects.filter(role=models.ImageRole.MAIN),
    to_attr="main_images",
)


@strawberry_django.type(models.LikenessMatch, name="LikenessMatch")
class LikenessMatchNode(PkNodeID, relay.Node):
    """Another user's element whose faces match the viewer's likeness."""

    state: LikenessMatchState = column(
        description="HELD (waiting for you), ALLOWED, or DECLINED (staff review it)."
    )
    created_at: datetime.datetime = column(description="When the match was found.")
    decided_at: datetime.datetime | None = column(description="When you last decided on it.")

    @strawberry_django.field(
        description="The element's name.", select_related=["element"], only=["element__name"]
    )
    def element_name(self, root: models.LikenessMatch) -> str:
        return root.element.name

    @strawberry_django.field(
        description="HELD while it can't be used; ACTIVE once allowed.",
        select_related=["element"],
        only=["element__status"],
    )
    def element_status(self, root: models.LikenessMatch) -> ElementStatus:
        return ElementStatus(root.element.status)

    @strawberry_django.field(
        description="The public name of the element's owner.",
        select_related=["element__owner"],
    )
    def element_owner_name(self, root: models.LikenessMatch) -> str:
        return root.element.owner.shown_name  # type: ignore[attr-defined]

    @strawberry_django.field(
        description="A short-lived URL of the element's main image preview; null if none.",
        prefetch_related=[_MAIN_IMAGES],
    )
    def element_thumbnail_url(self, root: models.LikenessMatch, info: Info) -> str | None:
        mains = getattr(root.element, "main_images", None)
        if mains is None:
            mains = list(root.element.images.filter(role=models.ImageRole.MAIN))
        if not mains:
            return None
        # The viewer owns the likeness this match is scoped to (get_queryset).
        return media_url(
            mains[0].thumbnail.name, owner_id=_viewer_id(info), request=info.context.request
        )

    @strawberry_django.field(
        description="How often the element was used: jobs, shared works, recreations.",
        only=["element_id"],
    )
    def usage(self, root: models.LikenessMatch, info: Info) -> LikenessUsage:
        # Counted once a request for every element matching the viewer's likeness (one
        # grouped query), not once a row.
        cache = getattr(info.context, "_likeness_usage", None)
        if cache is None:
            ids = models.LikenessMatch.objects.filter(
                likeness__owner_id=_viewer_id(info)
            ).values_list("element_id", flat=True)
            cache = element_use_counts(list(ids))
            setattr(info.context, "_likeness_usage", cache)  # noqa: B010
        jobs, works, recreations = cache.get(root.element_id, (0, 0, 0))
        return LikenessUsage(jobs=jobs, shared_works=works, recreations=recreations)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer_id(info)
        return queryset.none() if viewer is None else queryset.filter(likeness__owner_id=viewer)


@strawberry_django.type(models.LikenessGrant, name="LikenessGrant")
class LikenessGrantNode(PkNodeID, relay.Node):
    """A permission the viewer gave: one user, or everyone, may use elements showing them."""

    created_at: datetime.datetime = column(description="When it was given.")

    @strawberry_django.field(description="True: everyone.", only=["grantee_id"])
    def everyone(self, root: models.LikenessGrant) -> bool:
        return root.grantee_id is None

    @strawberry_django.field(
        description="The public name of the allowed user; null for everyone.",
        select_related=["grantee"],
    )
    def grantee_name(self, root: models.LikenessGrant) -> str | None:
        return root.grantee.shown_name if root.grantee is not None else None  # type: ignore[attr-defined]

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        viewer = _viewer_id(info)
        return queryset.none() if viewer is None else queryset.filter(likeness__owner_id=viewer)


@strawberry.type
class LikenessQuery:
    @strawberry_django.field(
        description="The viewer's likeness claim; null if they made none.",
        permission_classes=[IsAuthenticated],
    )
    def my_likeness(self, info: Info) -> LikenessNode | None:
        row = models.Likeness.objects.filter(owner_id=require_user(info).pk).first()
        return row  # type: ignore[return-value]

    @strawberry_django.connection(
        ListConnection[LikenessMatchNode],
        description="Other users' elements that show the viewer's likeness, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def likeness_matches(
        self,
        info: Info,
        state: Annotated[
            LikenessMatchState | None,
            strawberry.argument(description="Only matches in this state."),
        ] = None,
    ) -> QuerySet[models.LikenessMatch]:
        qs = models.LikenessMatch.objects.filter(likeness__owner_id=require_user(info).pk)
        if state is not None:
            qs = qs.filter(state=state.value)
        return qs.order_by("-updated_at", "-id")

    @strawberry_django.connection(
        ListConnection[LikenessGrantNode],
        description="The permissions the viewer gave, newest first.",
        permission_classes=[IsAuthenticated],
    )
    def likeness_grants(self, info: Info) -> QuerySet[models.LikenessGrant]:
        return models.LikenessGrant.objects.filter(
            likeness__owner_id=require_user(info).pk
        ).order_by("-created_at", "-id")


@strawberry.input(description="The selfie video said for a challenge.")
class LikenessClaimInput:
    challenge_id: strawberry.ID = strawberry.field(description="From likenessChallengeStart.")
    video: Upload = strawberry.field(
        description="MP4, MOV or WebM, 3–8 s, of you alone saying the phrase; deleted after "
        "the check (only face descriptors are kept)."
    )


@strawberry.input(description="A match of your likeness.")
class LikenessMatchInput:
    match_id: strawberry.ID = strawberry.field(description="A LikenessMatch of yours.")


@strawberry.input(description="A permission you gave.")
class LikenessGrantInput:
    grant_id: strawberry.ID = strawberry.field(description="A LikenessGrant of yours.")


@strawberry.type(description="Elements held again after a permission was withdrawn.")
class LikenessWithdrawResult:
    held_again: int = strawberry.field(description="How many elements are held again.")


@strawberry.type(description="The likeness was deleted; elements it held are released.")
class LikenessDeleteResult:
    deleted: bool = strawberry.field(description="Always true.")


@strawberry.type
class LikenessMutation:
    @strawberry_django.mutation(
        description="Start a likeness claim: a fresh random phrase to say in a 3–8 s selfie "
        "video, valid 10 minutes, used once."
    )
    def likeness_challenge_start(self, info: Info) -> LikenessChallengeNode:
        return services.likeness_challenge_start(user=require_user(info))  # type: ignore[return-value]

    @strawberry_django.mutation(
        description="Upload the selfie video for a challenge. The likeness comes back "
        "PROCESSING; a background check makes it ACTIVE, FAILED with a code, or REVIEW."
    )
    def likeness_claim(
        self,
        info: Info,
        input: Annotated[LikenessClaimInput, strawberry.argument(description="The video.")],
    ) -> LikenessNode:
        return services.likeness_claim(  # type: ignore[return-value]
            user=require_user(info),
            challenge_id=node_pk(input.challenge_id, LikenessChallengeNode),
            video=input.video,
        )

    @strawberry_django.mutation(
        description="Allow the owner of a matched element to use all their elements that show you."
    )
    def likeness_allow_user(
        self,
        info: Info,
        input: Annotated[LikenessMatchInput, strawberry.argument(description="The match.")],
    ) -> LikenessGrantNode:
        return services.likeness_allow_user(  # type: ignore[return-value]
            user=require_user(info), match_id=node_pk(input.match_id, LikenessMatchNode)
        )

    @strawberry_django.mutation(description="Allow everyone's elements that show you.")
    def likeness_allow_everyone(self, info: Info) -> LikenessGrantNode:
        return services.likeness_allow_everyone(user=require_user(info))  # type: ignore[return-value]

    @strawberry_django.mutation(
        description="Decline a held element: it stays held and staff review it."
    )
    def likeness_decline(
        self,
        info: Info,
        input: Annotated[LikenessMatchInput, strawberry.argument(description="The match.")],
    ) -> LikenessMatchNode:
        return services.likeness_decline(  # type: ignore[return-value]
            user=require_user(info), match_id=node_pk(input.match_id, LikenessMatchNode)
        )

    @strawberry_django.mutation(
        description="Withdraw a permission: the elements it allowed are held again at once "
        "(jobs already submitted are unchanged)."
    )
    def likeness_grant_withdraw(
        self,
        info: Info,
        input: Annotated[LikenessGrantInput, strawberry.argument(description="The permission.")],
    ) -> LikenessWithdrawResult:
        held = services.likeness_grant_withdraw(
            user=require_user(info), grant_id=node_pk(input.grant_id, LikenessGrantNode)
        )
        return LikenessWithdrawResult(held_again=len(held))

    @strawberry_django.mutation(
        description="Delete your likeness: its descriptors, matches and permissions."
    )
    def likeness_delete(self, info: Info) -> LikenessDeleteResult:
        services.likeness_delete(user=require_user(info))
        return LikenessDeleteResult(deleted=True)
