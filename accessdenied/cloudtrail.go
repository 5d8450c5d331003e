package accessdenied

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"

	"github.com/why-denied/why-denied/arn"
)

// record is the part of a CloudTrail event the tool reads (CloudTrail User
// Guide, "CloudTrail record contents").
type record struct {
	EventTime         string `json:"eventTime"`
	EventSource       string `json:"eventSource"`
	EventName         string `json:"eventName"`
	AWSRegion         string `json:"awsRegion"`
	SourceIPAddress   string `json:"sourceIPAddress"`
	ErrorCode         string `json:"errorCode"`
	ErrorMessage      string `json:"errorMessage"`
	VPCEndpointID     string `json:"vpcEndpointId"`
	RecipientAccount  string `json:"recipientAccountId"`
	RequestParameters map[string]any
	Resources         []struct {
		ARN string `json:"ARN"`
	} `json:"resources"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext struct {
			Attributes struct {
				MFAAuthenticated string `json:"mfaAuthenticated"`
				CreationDate     string `json:"creationDate"`
			} `json:"attributes"`
			SessionIssuer struct {
				Type string `json:"type"`
				ARN  string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
}

// trail is the shapes CloudTrail records come in: a trail file or a
// CloudWatch Logs export ({"Records": [...]}), the output of aws cloudtrail
// lookup-events ({"Events": [{"CloudTrailEvent": "JSON"}]}), a list, or one
// record.
type trail struct {
	Records []json.RawMessage `json:"Records"`
	Events  []struct {
		CloudTrailEvent string `json:"CloudTrailEvent"`
	} `json:"Events"`
}

var (
	deniedErrorRE = regexp.MustCompile(`(?i)accessdenied|unauthorized`)
	// Lambda's CloudTrail event names carry the API version:
	// GetFunction20150331v2, UpdateFunctionCode20150331v2.
	apiVersionRE = regexp.MustCompile(`20\d{6}(?:v\d+)?$`)
)

// parseCloudTrail reads a CloudTrail record, or the first record whose
// errorCode is an AccessDenied error; ok is false when text is not
// CloudTrail JSON at all.
func parseCloudTrail(text string) (d *Denial, err error, ok bool) {
	var raws []json.RawMessage
	var t trail
	if json.Unmarshal([]byte(text), &t) == nil && (t.Records != nil || t.Events != nil) {
		raws = t.Records
		for _, e := range t.Events {
			raws = append(raws, json.RawMessage(e.CloudTrailEvent))
		}
	} else if json.Unmarshal([]byte(text), &raws) != nil {
		raws = []json.RawMessage{json.RawMessage(text)}
	}
	var codes []string
	for _, raw := range raws {
		var r record
		if json.Unmarshal(raw, &r) != nil || r.EventName == "" || r.EventSource == "" {
			continue
		}
		if !deniedErrorRE.MatchString(r.ErrorCode) {
			codes = append(codes, orWord(r.ErrorCode, "none"))
			continue
		}
		return fromRecord(&r), nil, true
	}
	if codes == nil {
		return nil, nil, false // not CloudTrail: read it as text
	}
	return nil, &InputError{Msg: "no CloudTrail record in the input has an AccessDenied errorCode (errorCode: " + strings.Join(codes, ", ") + ")"}, true
}

// fromRecord reads the record's errorMessage, then fills what the message
// does not say from the record itself.
func fromRecord(r *record) *Denial {
	d, err := parseText(r.ErrorMessage)
	if err != nil || d.Form == FormBare {
		// S3 records say only "Access Denied": the record names the call.
		d = &Denial{}
	}
	d.CloudTrail = true
	d.ErrorCode = r.ErrorCode
	d.EventTime = r.EventTime
	if d.Operation == "" {
		d.Operation = r.EventName
	}
	service := strings.TrimSuffix(r.EventSource, ".amazonaws.com")
	if d.Caller == "" {
		switch {
		case r.UserIdentity.ARN != "":
			d.Caller = r.UserIdentity.ARN
		case r.UserIdentity.Type == "AWSService":
			d.Caller = r.UserIdentity.InvokedBy
		}
	}
	if d.Action == "" {
		d.Action = service + ":" + actionOf(service, r.EventName)
	}
	if res := resourceOf(r, service); d.Resource == "" || d.CutOff && res != "" {
		d.Resource = res
	}
	if si := r.UserIdentity.SessionContext.SessionIssuer; si.Type == "Role" {
		d.Role = si.ARN
	}
	ctx := map[string][]string{}
	// Request keys the record shows (IAM User Guide, "AWS global condition
	// context keys"). A service calling on the caller's behalf appears as
	// its name in sourceIPAddress, not as an address.
	if net.ParseIP(r.SourceIPAddress) != nil {
		ctx["aws:SourceIp"] = []string{r.SourceIPAddress}
	}
	if r.VPCEndpointID != "" {
		ctx["aws:SourceVpce"] = []string{r.VPCEndpointID}
	}
	if a := r.UserIdentity.SessionContext.Attributes; a.MFAAuthenticated != "" {
		ctx["aws:MultiFactorAuthPresent"] = []string{a.MFAAuthenticated}
	}
	if a := r.UserIdentity.SessionContext.Attributes; a.CreationDate != "" {
		ctx["aws:TokenIssueTime"] = []string{a.CreationDate}
	}
	if r.AWSRegion != "" {
		ctx["aws:RequestedRegion"] = []string{r.AWSRegion}
	}
	if len(ctx) > 0 {
		d.Context = ctx
	}
	d.Redacted = redacted(d.Caller) || redacted(d.Resource)
	d.CutOff = arn.CutOff(d.Resource)
	return d
}

// actionOf is the IAM action of a CloudTrail event name: Lambda's Invoke is
// authorized as lambda:InvokeFunction (Lambda Developer Guide, "Actions,
// resources, and condition keys for AWS Lambda").
func actionOf(service, event string) string {
	event = apiVersionRE.ReplaceAllString(event, "")
	if service == "lambda" && event == "Invoke" {
		return "InvokeFunction"
	}
	return event
}

// resourceOf is the resource the record's call was about: for Lambda the
// function (and qualifier) of requestParameters, else the first resource.
func resourceOf(r *record, service string) string {
	str := func(k string) string { v, _ := r.RequestParameters[k].(string); return v }
	if fn := str("functionName"); service == "lambda" && fn != "" {
		if !strings.HasPrefix(fn, "arn:") && r.RecipientAccount != "" && r.AWSRegion != "" {
			fn = "arn:" + arn.PartitionOfRegion(r.AWSRegion) + ":lambda:" + r.AWSRegion + ":" + r.RecipientAccount + ":function:" + fn
		}
		if q := str("qualifier"); q != "" {
			if _, has, ok := arn.Function(fn); !ok || has == "" {
				fn += ":" + q
			}
		}
		return fn
	}
	if len(r.Resources) > 0 {
		return r.Resources[0].ARN
	}
	return ""
}
