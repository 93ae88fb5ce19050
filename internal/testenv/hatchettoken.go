package testenv

import (
	"encoding/base64"
	"fmt"
	"time"
)

// FakeHatchetToken returns an unsigned Hatchet API token naming grpcAddr:
// enough for a client to know where the engine is, for tests of an engine
// that is not there (or not what it should be).
func FakeHatchetToken(grpcAddr string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims := fmt.Sprintf(`{"sub":"707d0855-80ab-4e1f-a156-f1c4546cbf52","exp":%d,"grpc_broadcast_address":%q,"server_url":"http://%s"}`,
		time.Now().Add(time.Hour).Unix(), grpcAddr, grpcAddr)
	return enc([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}
