"""The element library. The foundation keeps only what quotas need; the library issue
adds reference images, voices and moderation on top of this model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class ElementType(models.TextChoices):
    CHARACTER = "character", "Character"
    ANIMAL = "animal", "Animal"
    PROP = "prop", "Prop"
    COSTUME = "costume", "Costume & accessories"
    SCENE = "scene", "Scene"
    EFFECT = "effect", "Special effect"
    OTHER = "other", "Other"


class Element(models.Model):
    """A reusable character, prop or scene in its owner's library."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="elements"
    )
    name = models.CharField(max_length=40, help_text="Unique in the owner's library; `[@Name]`.")
    type = models.CharField(max_length=16, choices=ElementType.choices, default=ElementType.OTHER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="elements_name_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name
