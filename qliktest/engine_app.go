package qliktest

import (
	"encoding/json"
	"strings"
)

// SampleAppID is the one app the emulated engines hold, on Qlik Cloud and on
// QSEoW alike: open it at /app/<SampleAppID> (Cloud) or
// /<prefix>/app/<SampleAppID> (QSEoW). OpenDoc of any other app answers
// LOCERR_APP_NOT_FOUND (1003), as the engine does.
const SampleAppID = "7f5a1e2c-3b4d-4c6e-8f90-a1b2c3d4e5f6"

// SampleAppTitle is the sample app's title (qTitle of GetAppLayout).
const SampleAppTitle = "qliktest sample app"

// SampleSheets are the titles of the sample app's sheets, in rank order
// (GetObjects with qTypes ["sheet"], or @qlik/api's getSheetList).
var SampleSheets = []string{"Overview", "Details"}

// EngineVersion is what the emulated engines answer to EngineVersion.
const EngineVersion = "12.2027.0"

// sampleObjects are the app's stored objects: the sheets' properties.
func sampleObjects() []map[string]any {
	var out []map[string]any
	for i, title := range SampleSheets {
		out = append(out, map[string]any{
			"qInfo":    map[string]any{"qId": "sheet-" + strings.ToLower(title), "qType": "sheet"},
			"qMetaDef": map[string]any{"title": title, "description": "Sheet " + title + " of the " + SampleAppTitle},
			"rank":     i, "columns": 24, "rows": 12, "cells": []any{},
		})
	}
	return out
}

func sampleAppLayout() map[string]any {
	return map[string]any{
		"qTitle": SampleAppTitle, "qFileName": SampleAppID, "qLastReloadTime": "2025-11-14T09:00:00.000Z",
		"qModified": false, "qHasScript": true, "qStateNames": []any{}, "qHasData": true, "qReadOnly": false,
		"qIsOpenedWithoutData": false, "qIsSessionApp": false, "qProhibitBinaryLoad": false,
		"qIsBDILiveMode": false, "qIsDirectQueryMode": false, "qUnsupportedFeatures": []any{}, "qUsage": "ANALYTICS",
		"qThumbnail": map[string]any{"qUrl": ""},
		"qMeta":      map[string]any{"privileges": []any{"read"}},
		"qLocaleInfo": map[string]any{"qDecimalSep": ".", "qThousandSep": ",", "qListSep": ",", "qMoneyDecimalSep": ".",
			"qMoneyThousandSep": ",", "qCurrentYear": 2025, "qMoneyFmt": "$#,##0.00;-$#,##0.00", "qTimeFmt": "h:mm:ss TT",
			"qDateFmt": "M/D/YYYY", "qTimestampFmt": "M/D/YYYY h:mm:ss[.fff] TT", "qFirstWeekDay": 6, "qBrokenWeeks": true,
			"qReferenceDay": 0, "qFirstMonthOfYear": 1, "qCollation": "en-US",
			"qCalendarStrings": map[string]any{"qDayNames": []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
				"qMonthNames": []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}},
			"qNumericalAbbreviation": "3:k;6:M;9:G;12:T;15:P;18:E;21:Z;24:Y;-3:m;-6:μ;-9:n;-12:p;-15:f;-18:a;-21:z;-24:y"},
	}
}

// engineObject is a generic object opened in the session: a stored one
// (GetObject) or a session object (CreateSessionObject).
type engineObject struct {
	handle int
	props  map[string]any
}

func (o *engineObject) ref() map[string]any {
	info, _ := o.props["qInfo"].(map[string]any)
	return map[string]any{"qType": "GenericObject", "qHandle": o.handle, "qGenericType": info["qType"], "qGenericId": info["qId"]}
}

func (o *engineObject) call(method string) (map[string]any, *rpcError) {
	switch method {
	case "GetLayout":
		return map[string]any{"qLayout": layoutOf(o.props)}, nil
	case "GetProperties":
		return map[string]any{"qProp": o.props}, nil
	case "GetInfo":
		return map[string]any{"qInfo": o.props["qInfo"]}, nil
	}
	return nil, &rpcError{rpcMethodNotFound, method, "Method not found"}
}

// doc answers the methods of the open app.
func (e *engineConn) doc(method string, p params) (map[string]any, *rpcError) {
	switch method {
	case "GetAppLayout":
		return map[string]any{"qLayout": sampleAppLayout()}, nil
	case "GetAppProperties":
		return map[string]any{"qProp": map[string]any{"qTitle": SampleAppTitle, "qLastReloadTime": "2025-11-14T09:00:00.000Z",
			"qThumbnail": map[string]any{"qUrl": ""}, "qHasSectionAccess": false}}, nil
	case "GetAllInfos":
		infos := []any{}
		for _, o := range sampleObjects() {
			infos = append(infos, o["qInfo"])
		}
		return map[string]any{"qInfos": infos}, nil
	case "GetObjects":
		var opts struct {
			QTypes []string       `json:"qTypes"`
			QData  map[string]any `json:"qData"`
		}
		if len(p.list) > 0 || len(p.named) > 0 {
			if !p.get(0, "qOptions", &opts) {
				return nil, &rpcError{rpcInvalidParams, "qOptions", "Invalid Params"}
			}
		}
		return map[string]any{"qList": listItems(opts.QTypes, opts.QData)}, nil
	case "GetObject":
		var id string
		if !p.get(0, "qId", &id) {
			return nil, &rpcError{rpcInvalidParams, "qId", "Invalid Params"}
		}
		for _, o := range e.objects {
			if info, _ := o.props["qInfo"].(map[string]any); info["qId"] == id {
				return map[string]any{"qReturn": o.ref()}, nil
			}
		}
		for _, props := range sampleObjects() {
			if props["qInfo"].(map[string]any)["qId"] == id {
				return map[string]any{"qReturn": e.open(props).ref()}, nil
			}
		}
		return nil, &rpcError{locerrNotFound, id, "Object not found"}
	case "CreateSessionObject":
		var props map[string]any
		if !p.get(0, "qProp", &props) || props == nil {
			return nil, &rpcError{rpcInvalidParams, "qProp", "Invalid Params"}
		}
		info, _ := props["qInfo"].(map[string]any)
		if info == nil {
			info = map[string]any{}
			props["qInfo"] = info
		}
		if id, _ := info["qId"].(string); id == "" {
			info["qId"] = randomID(9)
		}
		return map[string]any{"qReturn": e.open(props).ref()}, nil
	}
	return nil, &rpcError{rpcMethodNotFound, method, "Method not found"}
}

// open gives props a handle.
func (e *engineConn) open(props map[string]any) *engineObject {
	o := &engineObject{handle: e.next, props: props}
	e.objects[o.handle] = o
	e.next++
	return o
}

// layoutOf computes an object's layout from its properties as the engine
// does for what the sample app can hold: qMetaDef becomes qMeta, each
// q…ListDef becomes q…List with its qItems (the app's objects of qType for
// qAppObjectListDef, none for the other lists), the rest is copied.
func layoutOf(props map[string]any) map[string]any {
	out := map[string]any{"qSelectionInfo": map[string]any{}}
	for k, v := range props {
		switch def, _ := v.(map[string]any); {
		case k == "qMetaDef":
			out["qMeta"] = metaOf(def)
		case strings.HasPrefix(k, "q") && strings.HasSuffix(k, "ListDef"):
			items := []any{}
			if k == "qAppObjectListDef" {
				typ, _ := def["qType"].(string)
				data, _ := def["qData"].(map[string]any)
				items = listItems([]string{typ}, data)
			}
			out[strings.TrimSuffix(k, "Def")] = map[string]any{"qItems": items}
		default:
			out[k] = v
		}
	}
	if _, ok := out["qMeta"]; !ok {
		out["qMeta"] = metaOf(nil)
	}
	return out
}

func metaOf(def map[string]any) map[string]any {
	m := map[string]any{"privileges": []any{"read"}}
	for k, v := range def {
		m[k] = v
	}
	return m
}

// listItems is the NxContainerEntry list of the app's objects whose type is
// in types (all for none or [""]), with qData evaluated: each value that is
// a path such as "/qMetaDef/title" is read from the object's properties.
func listItems(types []string, data map[string]any) []any {
	all := len(types) == 0 || len(types) == 1 && types[0] == ""
	items := []any{}
	for _, props := range sampleObjects() {
		info := props["qInfo"].(map[string]any)
		if !all && !contains(types, info["qType"].(string)) {
			continue
		}
		d := map[string]any{}
		for k, v := range data {
			if path, ok := v.(string); ok && strings.HasPrefix(path, "/") {
				if got, ok := lookup(props, path); ok {
					d[k] = got
				}
				continue
			}
			d[k] = v
		}
		meta, _ := props["qMetaDef"].(map[string]any)
		items = append(items, map[string]any{"qInfo": info, "qMeta": metaOf(meta), "qData": d})
	}
	return items
}

// lookup reads a JSON pointer such as /qMetaDef/title in v.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	// A copy, so that no answer shares maps with the stored properties.
	b, _ := json.Marshal(v)
	var c any
	_ = json.Unmarshal(b, &c)
	return c, true
}
