def test_me_anonymous(gql, db):
    assert gql("{ me { username } }") == {"me": None}
